/* The ways a guest ends its run that QEMU reports as events. */
#include "reset.h"
#include "io.h"
#include "timer.h"

/* QEMU's ISA pvpanic device (-device pvpanic) listens on port 0x505. Reading
 * it returns the events it supports (bit 0: panicked); an empty port reads
 * 0xFF. Writing bit 0 makes QEMU emit GUEST_PANICKED and apply its panic
 * action. */
#define PVPANIC_PORT      0x505
#define PVPANIC_PANICKED  0x01

/* The 8042 keyboard controller's command 0xFE pulses the CPU reset line:
 * the classic PC reboot, which QEMU reports as a guest-reset. */
#define KBC_CMD           0x64
#define KBC_PULSE_RESET   0xFE

/* With an empty IDT any exception becomes a double fault, then a triple fault,
 * which resets the CPU; QEMU reports that as a guest-reset too. */
static __attribute__((noreturn)) void triple_fault(void)
{
	static const struct { uint16_t limit; uint32_t base; } __attribute__((packed)) empty = { 0, 0 };

	__asm__ volatile("lidt %0; int3" : : "m"(empty));
	halt_forever();
}

void reset_panic(void)
{
	uint8_t features = inb(PVPANIC_PORT);

	if (features != 0xFF && (features & PVPANIC_PANICKED)) {
		outb(PVPANIC_PORT, PVPANIC_PANICKED);
		halt_forever();
	}
	triple_fault();
}

void reset_reboot(void)
{
	outb(KBC_CMD, KBC_PULSE_RESET);
	for (int i = 0; i < 10; i++)  /* QEMU resets at its next exit: give it time */
		timer_wait_10ms();
	triple_fault();               /* a machine without an 8042 */
}
