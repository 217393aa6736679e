/* String functions written in C (lib.c) at various offsets and lengths, plus fixed-length
 * array loops that gcc vectorises at -O2 (SIMD loads, stores and arithmetic). */
#include "common.h"

#define BUF 256

volatile uint64_t seed = 0xA5A5A5A55A5A5A5AULL;
static unsigned char src[BUF] __attribute__((aligned(16)));
static unsigned char dst[BUF] __attribute__((aligned(16)));
static uint32_t va[BUF] __attribute__((aligned(16)));
static uint32_t vb[BUF] __attribute__((aligned(16)));
static uint32_t vc[BUF] __attribute__((aligned(16)));
static uint16_t h16[BUF] __attribute__((aligned(16)));

static const char *const words[] = {
    "", "a", "ab", "abc", "abd", "hello, world", "hello, world!", "Hello", "zebra",
    "the quick brown fox jumps over the lazy dog",
};

static uint64_t hash_bytes(const unsigned char *p, size_t n)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001B3ULL;
    return h;
}

static void add_vectors(uint32_t *restrict out, const uint32_t *restrict x,
                        const uint32_t *restrict y)
{
    for (int i = 0; i < BUF; i++)
        out[i] = x[i] * 3 + (y[i] ^ 0x55AA55AAu);
}

static uint32_t sum16(const uint16_t *v)
{
    uint32_t s = 0;
    for (int i = 0; i < BUF; i++)
        s += v[i];
    return s;
}

static void xor_bytes(unsigned char *restrict out, const unsigned char *restrict in)
{
    for (int i = 0; i < BUF; i++)
        out[i] ^= in[i] + 1;
}

uint64_t main(void)
{
    uint64_t st = seed;
    for (int i = 0; i < BUF; i++) {
        uint64_t r = rand64(&st);
        src[i] = (unsigned char)r;
        va[i] = (uint32_t)r;
        vb[i] = (uint32_t)(r >> 32);
        h16[i] = (uint16_t)(r >> 17);
    }
    int r = 0;

    uint64_t copies = 0;
    for (size_t off = 0; off < 5; off++) {
        for (size_t len = 0; len < 40; len += 7) {
            memset(dst, (int)(0x11 * (off + 1)), BUF);
            memcpy(dst + off, src + (len & 7), len);
            copies = copies * 31 + hash_bytes(dst, 64);
        }
    }
    results[r++] = copies;

    uint64_t lens = 0, cmps = 0;
    const size_t nwords = sizeof(words) / sizeof(words[0]);
    for (size_t i = 0; i < nwords; i++) {
        lens = lens * 64 + strlen(words[i]);
        for (size_t j = 0; j < nwords; j++) {
            int c = strcmp(words[i], words[j]);
            cmps = cmps * 3 + (uint64_t)(c < 0 ? 0 : c == 0 ? 1 : 2);
        }
    }
    results[r++] = lens;
    results[r++] = cmps;

    add_vectors(vc, va, vb);
    results[r++] = hash_bytes((const unsigned char *)vc, sizeof(vc));
    results[r++] = sum16(h16);
    memcpy(dst, src, BUF);
    xor_bytes(dst, src + 0);
    results[r++] = hash_bytes(dst, BUF);
    return checksum();
}
