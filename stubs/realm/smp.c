/* smp: two vCPUs. REC 0 starts REC 1 with PSCI CPU_ON (the host completes it with
 * RMI_PSCI_COMPLETE), both print, REC 1 turns itself off, REC 0 powers the realm off. */

#include "realm.h"

#define CONTEXT 0x5a5aUL

static volatile uint64_t reported;

void secondary_main(uint64_t cpu, uint64_t context)
{
    print("smp: vCPU ");
    print_dec(cpu);
    print(" up, context ");
    print_hex(context);
    print("\n");
    reported = context;
    dsb(sy);
    sev();
}

void realm_main(void)
{
    print("smp: vCPU 0 up, starting vCPU 1\n");
    struct smc_regs r = rsi_call(PSCI_CPU_ON, 1, (uint64_t)secondary_entry, CONTEXT, 0);
    print("smp: CPU_ON returned ");
    print_dec((int64_t)r.x[0]);
    print("\n");
    if (r.x[0] != 0)
        return;
    while (!reported)
        wfe();
    print("smp: vCPU 1 reported context ");
    print_hex(reported);
    print(", powering off\n");
}
