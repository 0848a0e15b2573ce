/* COM1, a 16550 UART at I/O port 0x3F8, driven by polling (no interrupts).
 * QEMU's -serial backend takes every byte at once, but a real UART must not
 * be written before its transmit holding register is empty, so we wait. */
#include "serial.h"
#include "io.h"

#define COM1 0x3F8
#define UART_THR 0  /* transmit holding register (DLAB=0) */
#define UART_DLL 0  /* divisor latch low (DLAB=1) */
#define UART_IER 1  /* interrupt enable (DLAB=0) / divisor latch high (DLAB=1) */
#define UART_FCR 2  /* FIFO control */
#define UART_LCR 3  /* line control: bit 7 = DLAB */
#define UART_MCR 4  /* modem control */
#define UART_LSR 5  /* line status: bit 5 = THR empty */

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);   /* no interrupts: we poll */
	outb(COM1 + UART_LCR, 0x80);   /* DLAB on to reach the divisor */
	outb(COM1 + UART_DLL, 0x01);   /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, 0x03);   /* DLAB off, 8 data bits, no parity, 1 stop */
	outb(COM1 + UART_FCR, 0x07);   /* enable and clear the FIFOs */
	outb(COM1 + UART_MCR, 0x03);   /* DTR + RTS */
}

static void serial_putc(char c)
{
	while (!(inb(COM1 + UART_LSR) & 0x20))
		;
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}

void serial_put_hex64(uint64_t v)
{
	for (int shift = 60; shift >= 0; shift -= 4)
		serial_putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

void serial_put_dec(uint32_t v)
{
	char buf[11];
	int i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	serial_puts(&buf[i]);
}
