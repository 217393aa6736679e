/* Bit manipulation: popcount (CNT on a SIMD register), CLZ, CTZ (RBIT+CLZ), CLS, byte
 * reversal (REV*), a bit-reversal loop, bitfield extract/insert (UBFX/SBFX/BFI). */
#include "common.h"

volatile uint64_t seed = 0xFEEDFACECAFEBEEFULL;

struct fields {
    int64_t low : 7;
    uint64_t mid : 21;
    int64_t high : 36;
};

static uint64_t reverse_bits(uint64_t x)
{
    uint64_t r = 0;
    for (int i = 0; i < 64; i++) {
        r = (r << 1) | (x & 1);
        x >>= 1;
    }
    return r;
}

uint64_t main(void)
{
    uint64_t st = seed;
    uint64_t pop = 0, clz = 0, ctz = 0, cls = 0, rev = 0, brev = 0, parity = 0, bf = 0, pop32 = 0;

    for (int i = 0; i < 100; i++) {
        uint64_t x = rand64(&st) >> (i % 64);
        uint32_t w = (uint32_t)(x >> 13);
        pop += (uint64_t)__builtin_popcountll(x);
        pop32 += (uint64_t)__builtin_popcount(w);
        if (x)
            clz += (uint64_t)__builtin_clzll(x) + (uint64_t)__builtin_ctzll(x) * 64;
        if (w)
            ctz += (uint64_t)__builtin_ctz(w) + (uint64_t)__builtin_clz(w) * 32;
        cls += (uint64_t)__builtin_clrsbll((int64_t)x) + (uint64_t)__builtin_clrsb((int32_t)w);
        rev ^= __builtin_bswap64(x) + __builtin_bswap32(w) + __builtin_bswap16((uint16_t)w);
        brev += reverse_bits(x) ^ (i * 0x9E3779B97F4A7C15ULL);
        parity = (parity << 1) ^ (uint64_t)__builtin_parityll(x);
        struct fields f;
        f.low = (int64_t)(x & 0x7F) - 64;
        f.mid = x >> 7;
        f.high = (int64_t)x >> 28;
        bf += (uint64_t)f.low + f.mid * 3 + (uint64_t)f.high;
        bf ^= ((x >> 11) & 0x3FF) | ((x & 0xFF) << 40);
    }

    results[0] = pop;
    results[1] = pop32;
    results[2] = clz;
    results[3] = ctz;
    results[4] = cls;
    results[5] = rev;
    results[6] = brev;
    results[7] = parity;
    results[8] = bf;
    return checksum();
}
