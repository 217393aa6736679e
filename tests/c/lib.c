/* The little runtime every test program links: results[], a PRNG, a checksum and the string
 * functions gcc may call even in freestanding code (struct copies, large initialisers). */
#include "common.h"

uint64_t results[NRESULTS];

uint64_t rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

uint64_t checksum(void)
{
    uint64_t h = 0xCBF29CE484222325ULL;
    for (int i = 0; i < NRESULTS; i++)
        h = (h ^ results[i]) * 0x100000001B3ULL;
    return h;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}
