/* The ACPI fixed hardware: the power button and soft-off (S5). */
#ifndef XVM_GUEST_ACPI_H
#define XVM_GUEST_ACPI_H

#include <stdbool.h>

/* Finds the FADT, learns S5's sleep type, arms the power button. Returns
 * false when there are no usable ACPI tables: the button then never fires
 * and acpi_poweroff() does nothing. */
bool acpi_init(void);
/* True once after each press (reading clears the latch). */
bool acpi_power_button_pressed(void);
/* Requests soft-off (S5); returns only if the machine did not obey. */
void acpi_poweroff(void);

#endif
