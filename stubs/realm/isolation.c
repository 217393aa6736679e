/* isolation: what a realm must not be able to do. Each attempt is made through a probe that
 * catches the exception at the realm's own vectors and reports its ESR (and FAR). */

#include "realm.h"

#define HOST_PA 0x84000000UL            /* the host's image in NS DRAM */

static uint8_t empty_page[4096] PAGE_BSS;

static void report(const char *what, uint64_t value)
{
    print("isolation: ");
    print(what);
    if (!last_fault.esr) {
        print(": no exception, read ");
        print_hex(value);
        print(" -- NOT ISOLATED\n");
        return;
    }
    uint64_t ec = last_fault.esr >> 26, fsc = last_fault.esr & 0x3F;
    print(": exception ESR ");
    print_hex(last_fault.esr);
    print(" (");
    print(ec == 0x25 ? "data abort" : ec == 0x21 ? "instruction abort" :
          ec == 0x00 ? "undefined instruction" : "EC ?");
    if (ec == 0x25 || ec == 0x21) {
        print(fsc == 0x10 ? ", synchronous external abort) FAR " : ", fault status ?) FAR ");
        print_hex(last_fault.far);
    } else {
        print(")");
    }
    print("\n");
}

void realm_main(void)
{
    uint64_t v;

    print("isolation: starting\n");

    v = probe_load(unprotected_base + HOST_PA);
    report("read of host memory through an unprotected IPA it was not given", v);

    v = probe_load(0x40000000UL);
    report("read of an unmapped protected IPA (RIPAS EMPTY)", v);

    v = probe_load(unprotected_base << 1);
    report("read beyond the IPA space", v);

    uint64_t page = (uint64_t)empty_page;
    struct smc_regs r = rsi_call(RSI_IPA_STATE_SET, page, page + 4096, RSI_RIPAS_EMPTY,
                                 RSI_NO_CHANGE_DESTROYED);
    if (r.x[0] != RSI_SUCCESS || r.x[1] != page + 4096) {
        print("isolation: IPA_STATE_SET to EMPTY failed: status ");
        print_dec(r.x[0]);
        print("\n");
    } else {
        probe_exec(page);
        report("execute from a RIPAS EMPTY page", 0);
    }

    probe_hvc();
    report("HVC", 0);

    print("isolation: done\n");
}
