/* CRC32 and CRC32C computed bitwise in C and with the CRC32{B,H,W,X} / CRC32C{B,H,W,X}
 * instructions (built with +crc): for every length the two forms must agree. */
#include "common.h"

#define LEN 512

volatile uint64_t seed = 0x0DDBA11DEADBEEFULL;
static unsigned char buf[LEN] __attribute__((aligned(16)));

static uint32_t crc_bitwise(const unsigned char *p, size_t n, uint32_t poly)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (poly & -(crc & 1));
    }
    return ~crc;
}

static uint32_t load32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* 8 bytes at a time, then one 4-, 2- and 1-byte step as the length needs. */
#define CRC_INSN(name, x, w, h, b)                                               \
    static uint32_t name(const unsigned char *p, size_t n)                      \
    {                                                                            \
        uint32_t crc = 0xFFFFFFFFu;                                              \
        size_t i = 0;                                                            \
        for (; i + 8 <= n; i += 8) {                                             \
            uint64_t v;                                                          \
            memcpy(&v, p + i, 8);                                                \
            crc = x(crc, v);                                                     \
        }                                                                        \
        if (i + 4 <= n) {                                                        \
            crc = w(crc, load32(p + i));                                         \
            i += 4;                                                              \
        }                                                                        \
        if (i + 2 <= n) {                                                        \
            crc = h(crc, (uint16_t)(p[i] | p[i + 1] << 8));                      \
            i += 2;                                                              \
        }                                                                        \
        if (i < n)                                                               \
            crc = b(crc, p[i]);                                                  \
        return ~crc;                                                             \
    }

CRC_INSN(crc32_insn, __builtin_aarch64_crc32x, __builtin_aarch64_crc32w,
         __builtin_aarch64_crc32h, __builtin_aarch64_crc32b)
CRC_INSN(crc32c_insn, __builtin_aarch64_crc32cx, __builtin_aarch64_crc32cw,
         __builtin_aarch64_crc32ch, __builtin_aarch64_crc32cb)

uint64_t main(void)
{
    uint64_t st = seed;
    for (int i = 0; i < LEN; i++)
        buf[i] = (unsigned char)rand64(&st);

    int r = 0;
    uint64_t mismatches = 0;
    for (size_t n = LEN - 7; n <= LEN; n++) {
        uint32_t a = crc_bitwise(buf, n, 0xEDB88320u);
        uint32_t b = crc32_insn(buf, n);
        results[r++] = (uint64_t)a << 32 | b;
        mismatches += a != b;
    }
    for (size_t n = 57; n <= 64; n++) {
        uint32_t a = crc_bitwise(buf, n, 0x82F63B78u);
        uint32_t b = crc32c_insn(buf, n);
        results[r++] = (uint64_t)a << 32 | b;
        mismatches += a != b;
    }
    results[r++] = crc_bitwise((const unsigned char *)"123456789", 9, 0xEDB88320u);
    results[r++] = mismatches;
    return checksum();
}
