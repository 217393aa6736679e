/* The host's view of the FVP Base RevC: UART0, GICv3, the EL2 timer, the MMU, PSCI. */
#ifndef HOST_PLATFORM_H
#define HOST_PLATFORM_H

#include "../common/arch.h"

#define PSCI_SYSTEM_OFF 0x84000008UL

void mmu_init(void);
void gic_init(void);
void timer_init(uint64_t period_ticks);
uint64_t timer_ticks(void);
int uart_getc(void);                 /* blocks (WFI between polls) */
void power_off(void) __attribute__((noreturn));

#endif
