/* ripas: RSI_IPA_STATE_SET of four pages to EMPTY and back to RAM (each change is a
 * RIPAS-change exit the host applies with RMI_RTT_SET_RIPAS), checked with
 * RSI_IPA_STATE_GET. */

#include "realm.h"

#define PAGES 4

static uint8_t pages[PAGES][4096] PAGE_BSS;

static const char *ripas_name(uint64_t ripas)
{
    static const char *names[] = {"EMPTY", "RAM", "DESTROYED", "DEV"};
    return ripas < 4 ? names[ripas] : "?";
}

static void show_state(uint64_t base, uint64_t top)
{
    while (base < top) {
        struct smc_regs r = rsi_call(RSI_IPA_STATE_GET, base, top, 0, 0);
        print("ripas: IPA_STATE_GET [");
        print_hex(base);
        print(", ");
        print_hex(r.x[1]);
        print(") ");
        if (r.x[0] != RSI_SUCCESS) {
            print("failed: status ");
            print_dec(r.x[0]);
            print("\n");
            return;
        }
        print(ripas_name(r.x[2]));
        print("\n");
        base = r.x[1];
    }
}

static void set_state(uint64_t base, uint64_t top, uint64_t ripas)
{
    while (base < top) {
        struct smc_regs r = rsi_call(RSI_IPA_STATE_SET, base, top, ripas,
                                     RSI_NO_CHANGE_DESTROYED);
        print("ripas: IPA_STATE_SET [");
        print_hex(base);
        print(", ");
        print_hex(top);
        print(") to ");
        print(ripas_name(ripas));
        print(": status ");
        print_dec(r.x[0]);
        print(", next ");
        print_hex(r.x[1]);
        print(r.x[2] == RSI_ACCEPT ? ", accepted\n" : ", rejected\n");
        if (r.x[0] != RSI_SUCCESS || r.x[2] != RSI_ACCEPT || r.x[1] <= base)
            return;
        base = r.x[1];
    }
}

void realm_main(void)
{
    uint64_t base = (uint64_t)pages, top = base + sizeof(pages);
    for (int i = 0; i < PAGES; i++)
        pages[i][0] = 0xA0 + i;                     /* touch: the host maps them */
    show_state(base, top);
    set_state(base, top, RSI_RIPAS_EMPTY);
    show_state(base, top);
    set_state(base, top, RSI_RIPAS_RAM);
    show_state(base, top);
    for (int i = 0; i < PAGES; i++)
        pages[i][8] = 0x5A;                         /* usable again */
    print("ripas: pages written again after returning to RAM\n");
}
