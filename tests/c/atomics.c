/* Atomic read-modify-write, exchange and compare-exchange on 8- to 64-bit variables, and
 * acquire/release loads and stores. Built with +lse (LDADD, SWP, CAS, LDCLR, LDSET, LDEOR)
 * and without it (LDAXR/STLXR loops). */
#include "common.h"

volatile uint64_t seed = 0xA70A1C5EED000001ULL;

static uint64_t c64;
static uint32_t c32;
static uint16_t c16;
static uint8_t c8;

uint64_t main(void)
{
    uint64_t st = seed;
    uint64_t old = 0, cas_ok = 0, cas_fail = 0;

    for (int i = 0; i < 40; i++) {
        uint64_t v = rand64(&st);
        old += __atomic_fetch_add(&c64, v, __ATOMIC_SEQ_CST);
        old ^= __atomic_fetch_sub(&c32, (uint32_t)v, __ATOMIC_ACQUIRE);
        old += __atomic_fetch_or(&c16, (uint16_t)v, __ATOMIC_RELEASE);
        old ^= __atomic_fetch_and(&c8, (uint8_t)(v >> 8), __ATOMIC_RELAXED);
        old += __atomic_fetch_xor(&c64, v >> 3, __ATOMIC_ACQ_REL);
        old ^= __atomic_exchange_n(&c32, (uint32_t)(v >> 32), __ATOMIC_SEQ_CST);
        old += __atomic_add_fetch(&c8, (uint8_t)v, __ATOMIC_SEQ_CST);

        uint64_t expected = __atomic_load_n(&c64, __ATOMIC_ACQUIRE);
        if (i & 1)
            expected ^= 1;                   /* make every other exchange fail */
        if (__atomic_compare_exchange_n(&c64, &expected, v, 0, __ATOMIC_SEQ_CST,
                                        __ATOMIC_SEQ_CST))
            cas_ok++;
        else
            cas_fail += expected & 0xFF;
        uint16_t e16 = (uint16_t)i;
        cas_ok += (uint64_t)__atomic_compare_exchange_n(&c16, &e16, (uint16_t)(v >> 5), 0,
                                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE) << 8;
        __atomic_store_n(&c8, (uint8_t)(c8 + 1), __ATOMIC_RELEASE);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
    results[0] = old;
    results[1] = cas_ok;
    results[2] = cas_fail;
    results[3] = c64;
    results[4] = c32;
    results[5] = c16;
    results[6] = c8;
    return checksum();
}
