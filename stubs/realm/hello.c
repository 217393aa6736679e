/* hello: the smallest realm. Prints a greeting, its RSI version and IPA width, makes one host
 * call, and powers the realm off with PSCI SYSTEM_OFF (a PSCI exit to the host). */

#include "realm.h"

static struct rsi_host_call call __attribute__((aligned(256)));

void realm_main(void)
{
    print("hello from the realm\n");

    struct smc_regs r = rsi_call(RSI_VERSION, 0x10001, 0, 0, 0);   /* ask for RSI 1.1 */
    print("hello: RSI_VERSION status ");
    print_dec(r.x[0]);
    print(" lower ");
    print_hex(r.x[1]);
    print(" higher ");
    print_hex(r.x[2]);
    print("\n");

    print("hello: RSI_REALM_CONFIG IPA width ");
    print_dec(realm_config.ipa_width);
    print(" bits, hash algorithm ");
    print_dec(realm_config.hash_algo);
    print("\n");

    call.imm = 0x1234;
    call.gprs[0] = SMCCC_VERSION;
    call.gprs[1] = 0xCAFE;
    r = rsi_call(RSI_HOST_CALL, (uint64_t)&call, 0, 0, 0);
    print("hello: RSI_HOST_CALL status ");
    print_dec(r.x[0]);
    print(", host answered ");
    print_hex(call.gprs[0]);
    print("\n");

    print("hello: powering off\n");
}
