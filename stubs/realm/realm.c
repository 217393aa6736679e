/* The realm payloads' runtime (see realm.h). The console is a write-only PL011 data register
 * emulated by the host at unprotected IPA 2^(ipa_width-1) + REALM_CONSOLE_OFF: every store
 * there is an emulatable data abort the host completes (one REC exit per character). */

#include "realm.h"

struct rsi_realm_config realm_config PAGE_BSS;
uint64_t unprotected_base;

struct smc_regs rsi_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
    struct smc_regs r;
    memset(&r, 0, sizeof(r));
    r.x[0] = fid;
    r.x[1] = a1;
    r.x[2] = a2;
    r.x[3] = a3;
    r.x[4] = a4;
    smc_call(&r);
    return r;
}

void console_putc(char c)
{
    uint64_t addr = unprotected_base + REALM_CONSOLE_OFF;
    if (!unprotected_base)
        return;
    /* A single 32-bit STR without writeback: the abort is emulatable (ISV = 1). */
    __asm__ volatile("str %w0, [%1]" :: "r"((uint32_t)(uint8_t)c), "r"(addr) : "memory");
}

void realm_exit(void)
{
    for (;;)
        rsi_call(PSCI_SYSTEM_OFF, 0, 0, 0, 0);
}

void realm_cpu_off(void)
{
    for (;;)
        rsi_call(PSCI_CPU_OFF, 0, 0, 0, 0);
}

/* Learn the IPA width (and so where the unprotected half and the console are). */
void realm_init(void)
{
    struct smc_regs r = rsi_call(RSI_REALM_CONFIG, (uint64_t)&realm_config, 0, 0, 0);
    uint64_t width = r.x[0] == RSI_SUCCESS ? realm_config.ipa_width : 0;
    if (width < 32 || width > 52)
        width = 40;                 /* cannot ask: assume the host's documented choice */
    unprotected_base = 1UL << (width - 1);
    if (r.x[0] != RSI_SUCCESS) {
        print("realm_init: RSI_REALM_CONFIG failed: ");
        print_hex(r.x[0]);
        print("\n");
    }
}

void realm_fatal(uint64_t esr, uint64_t elr, uint64_t far)
{
    print("fatal: unexpected exception ESR ");
    print_hex(esr);
    print(" ELR ");
    print_hex(elr);
    print(" FAR ");
    print_hex(far);
    print("\n");
}

__attribute__((weak)) void secondary_main(uint64_t cpu, uint64_t context)
{
    (void)cpu;
    (void)context;
}
