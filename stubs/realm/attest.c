/* attest: extends REM0, reads it and the RIM back, and gets an attestation token for a fixed
 * 64-byte challenge (ATTESTATION_TOKEN_INIT, then CONTINUE until the token is complete). */

#include "realm.h"

#define TOKEN_PAGES 4

static uint8_t token[TOKEN_PAGES][4096] PAGE_BSS;

static void print_measurement(const char *what, uint64_t index)
{
    struct smc_regs r = rsi_call(RSI_MEASUREMENT_READ, index, 0, 0, 0);
    print("attest: ");
    print(what);
    if (r.x[0] != RSI_SUCCESS) {
        print(" read failed: status ");
        print_dec(r.x[0]);
        print("\n");
        return;
    }
    size_t len = realm_config.hash_algo == 0 ? 32 : 64;     /* SHA-256 : SHA-512 */
    print(" ");
    print_bytes(&r.x[1], len);
    print("\n");
}

void realm_main(void)
{
    /* REM0 (index 1) extended with 32 bytes "fvp-rme attest realm: REM0 data" */
    static const char data[32] = "fvp-rme attest realm: REM0 data";
    uint64_t words[4];
    memcpy(words, data, sizeof(words));
    struct smc_regs r;
    memset(&r, 0, sizeof(r));
    r.x[0] = RSI_MEASUREMENT_EXTEND;
    r.x[1] = 1;
    r.x[2] = sizeof(data);
    for (int i = 0; i < 4; i++)
        r.x[3 + i] = words[i];
    smc_call(&r);
    print("attest: MEASUREMENT_EXTEND REM0 status ");
    print_dec(r.x[0]);
    print("\n");
    print_measurement("RIM", 0);
    print_measurement("REM0", 1);

    /* challenge: bytes 0x00, 0x01, ... 0x3f */
    memset(&r, 0, sizeof(r));
    r.x[0] = RSI_ATTEST_TOKEN_INIT;
    for (int i = 0; i < 8; i++) {
        uint64_t w = 0;
        for (int b = 0; b < 8; b++)
            w |= (uint64_t)(i * 8 + b) << (8 * b);
        r.x[1 + i] = w;
    }
    smc_call(&r);
    print("attest: ATTESTATION_TOKEN_INIT status ");
    print_dec(r.x[0]);
    print(", token at most ");
    print_dec(r.x[1]);
    print(" bytes\n");
    if (r.x[0] != RSI_SUCCESS)
        return;

    uint64_t size = 0, calls = 0;
    for (;;) {
        uint64_t page = size / 4096, offset = size % 4096;
        if (page >= TOKEN_PAGES) {
            print("attest: token larger than the buffer\n");
            return;
        }
        r = rsi_call(RSI_ATTEST_TOKEN_CONTINUE, (uint64_t)token[page], offset,
                     4096 - offset, 0);
        calls++;
        if (r.x[0] != RSI_SUCCESS && r.x[0] != RSI_INCOMPLETE) {
            print("attest: ATTESTATION_TOKEN_CONTINUE failed: status ");
            print_dec(r.x[0]);
            print("\n");
            return;
        }
        size += r.x[1];
        if (r.x[0] == RSI_SUCCESS)
            break;
        if (calls > 1000) {
            print("attest: ATTESTATION_TOKEN_CONTINUE does not finish\n");
            return;
        }
    }
    print("attest: token size ");
    print_dec(size);
    print(" bytes in ");
    print_dec(calls);
    print(" CONTINUE calls, begins ");
    print_bytes(token, size < 8 ? size : 8);
    print("\n");
}
