/* Integer arithmetic: 64- and 32-bit division and remainder (UDIV/SDIV/MSUB), multiply-add,
 * 128-bit multiplication and addition (UMULH/SMULH, MUL, ADDS/ADC), variable shifts. */
#include "common.h"

volatile uint64_t seed = 0x123456789ABCDEF1ULL;

typedef unsigned __int128 u128;
typedef __int128 s128;

static uint64_t ror64(uint64_t x, unsigned n)
{
    n &= 63;
    return n ? (x >> n) | (x << (64 - n)) : x;
}

uint64_t main(void)
{
    uint64_t st = seed;
    uint64_t udiv = 0, umod = 0, sdiv = 0, smod = 0, div32 = 0, mul = 0, hi = 0, shifts = 0;
    uint64_t shi = 0, lo128 = 0, hi128 = 0, carry = 0;
    u128 wide = 1, sum = 0;

    for (unsigned i = 0; i < 200; i++) {
        uint64_t a = rand64(&st);
        uint64_t b = rand64(&st) >> (i % 61);
        if (b == 0)
            b = 3;
        int64_t sa = (int64_t)a;
        int64_t sb = (i & 1) ? -(int64_t)b : (int64_t)b;
        udiv += a / b;
        umod ^= a % b;
        if (!(sa == INT64_MIN && sb == -1)) {
            sdiv += (uint64_t)(sa / sb);
            smod ^= (uint64_t)(sa % sb);
        }
        uint32_t a32 = (uint32_t)a, b32 = (uint32_t)(b >> 3) | 1;
        int32_t sa32 = (int32_t)a32, sb32 = (int32_t)b32;
        div32 += a32 / b32 + (a32 % b32) * 7u + (uint32_t)(sa32 / sb32) + (uint32_t)(sa32 % sb32);
        mul += a * b + (a - b) * (i + 3) - (b * 5) * a;
        hi += (uint64_t)(((u128)a * b) >> 64);
        shi ^= (uint64_t)(((s128)sa * sb) >> 64);
        wide = wide * (u128)(a | 1) + b;
        sum += (u128)a + ((u128)b << 32);
        carry += (a + b < a);
        shifts += (a << (b & 63)) ^ (a >> (i & 63)) ^ (uint64_t)(sa >> (b & 63)) ^ ror64(a, i);
        shifts += (uint32_t)(a32 << (b & 31)) ^ (uint32_t)(sa32 >> (i & 31));
    }
    lo128 = (uint64_t)wide;
    hi128 = (uint64_t)(wide >> 64);

    results[0] = udiv;
    results[1] = umod;
    results[2] = sdiv;
    results[3] = smod;
    results[4] = div32;
    results[5] = mul;
    results[6] = hi;
    results[7] = shi;
    results[8] = lo128;
    results[9] = hi128;
    results[10] = (uint64_t)sum;
    results[11] = (uint64_t)(sum >> 64);
    results[12] = carry;
    results[13] = shifts;
    return checksum();
}
