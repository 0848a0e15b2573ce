/* Waiting for real (virtual) time to pass. */
#ifndef XVM_GUEST_TIMER_H
#define XVM_GUEST_TIMER_H

/* Busy-waits 10 ms, measured by the PIT. */
void timer_wait_10ms(void);

#endif
