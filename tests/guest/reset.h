/* Ending the run other than by powering off: a reported panic, a reboot. */
#ifndef XVM_GUEST_RESET_H
#define XVM_GUEST_RESET_H

/* Tells QEMU the guest panicked (pvpanic), else resets by a triple fault. */
__attribute__((noreturn)) void reset_panic(void);
/* Resets the machine through the keyboard controller. */
__attribute__((noreturn)) void reset_reboot(void);

#endif
