/* Time from the 8254 PIT's channel 2, the one wired to the PC speaker: its
 * gate and its output are visible in port 0x61 (NMI status / speaker control),
 * so it can be run one-shot and polled without interrupts. It runs on the
 * PIT's fixed 1.193182 MHz clock, which QEMU derives from the VM's virtual
 * clock: under TCG or KVM, and across stop / migrate / cont, it keeps the
 * guest's time, not the host's instruction rate. */
#include "timer.h"
#include "io.h"

#define PIT_HZ       1193182u
#define PIT_CH2_DATA 0x42
#define PIT_CMD      0x43
#define PORT_61      0x61
#define P61_GATE2    0x01   /* channel 2 gate: counting enabled */
#define P61_SPEAKER  0x02   /* speaker data: kept off, we want silence */
#define P61_OUT2     0x20   /* channel 2 output (read only) */

void timer_wait_10ms(void)
{
	const uint16_t count = PIT_HZ / 100;
	uint8_t p61 = inb(PORT_61) & ~(P61_GATE2 | P61_SPEAKER);

	outb(PORT_61, p61);               /* gate low while we program */
	outb(PIT_CMD, 0xB0);              /* channel 2, lobyte/hibyte, mode 0 (one-shot), binary */
	outb(PIT_CH2_DATA, count & 0xFF); /* mode 0 drives OUT low ... */
	outb(PIT_CH2_DATA, count >> 8);
	outb(PORT_61, p61 | P61_GATE2);   /* ... counts down, and raises OUT at zero */
	while (!(inb(PORT_61) & P61_OUT2))
		;
}
