/* The little of libc the bundled programs need (GCC may also call memset/memcpy for struct
 * initialisation and copies), and console formatting on top of each program's console_putc. */

#include "arch.h"

void *memset(void *dst, int c, size_t n)
{
    volatile uint8_t *d = dst;       /* volatile: keep GCC from turning this into a memset call */
    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return (uint8_t)*a - (uint8_t)*b;
}

void print(const char *s)
{
    while (*s)
        console_putc(*s++);
}

static const char digits[] = "0123456789abcdef";

void print_hex(uint64_t v)
{
    int shift = 60;
    print("0x");
    while (shift > 0 && !((v >> shift) & 0xF))
        shift -= 4;
    for (; shift >= 0; shift -= 4)
        console_putc(digits[(v >> shift) & 0xF]);
}

void print_hex64(uint64_t v)
{
    print("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        console_putc(digits[(v >> shift) & 0xF]);
}

void print_dec(int64_t v)
{
    char buf[24];
    int n = 0;
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    if (v < 0)
        console_putc('-');
    do {
        buf[n++] = '0' + u % 10;
        u /= 10;
    } while (u);
    while (n)
        console_putc(buf[--n]);
}

void print_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        console_putc(digits[b[i] >> 4]);
        console_putc(digits[b[i] & 0xF]);
    }
}
