/* Output on the first serial port, polled: the guest's only voice. */
#ifndef XVM_GUEST_SERIAL_H
#define XVM_GUEST_SERIAL_H

#include <stdint.h>

void serial_init(void);
void serial_puts(const char *s);
void serial_put_hex64(uint64_t v);  /* exactly 16 lower-case hex digits */
void serial_put_dec(uint32_t v);

#endif
