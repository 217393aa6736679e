/* Shared by the bundled host and realm programs: system register access, barriers and the
 * SMC register block. Freestanding: no libc headers beyond <stdint.h>/<stddef.h>. */
#ifndef STUBS_ARCH_H
#define STUBS_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define READ_SYSREG(name) ({ uint64_t _v; __asm__ volatile("mrs %0, " #name : "=r"(_v)); _v; })
#define WRITE_SYSREG(name, v) __asm__ volatile("msr " #name ", %0" :: "r"((uint64_t)(v)))

#define isb()   __asm__ volatile("isb" ::: "memory")
#define dsb(x)  __asm__ volatile("dsb " #x ::: "memory")
#define wfi()   __asm__ volatile("wfi" ::: "memory")
#define wfe()   __asm__ volatile("wfe" ::: "memory")
#define sev()   __asm__ volatile("sev" ::: "memory")

#define GRANULE         4096UL
#define ALIGNED(n)      __attribute__((aligned(n)))

/* x0..x17 in and out of one SMC #0 (SMCCC 1.2: x0-x17 may carry arguments and results). */
struct smc_regs {
    uint64_t x[18];
};

/* smc.S: load x0..x17 from *r, SMC #0, store x0..x17 back into *r. */
void smc_call(struct smc_regs *r);

/* lib.c */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

/* Console output: each program provides console_putc(); the rest is built on it. */
void console_putc(char c);
void print(const char *s);
void print_hex(uint64_t v);          /* 0x-prefixed, no leading zeros */
void print_hex64(uint64_t v);        /* 0x-prefixed, 16 digits */
void print_dec(int64_t v);
void print_bytes(const void *p, size_t n);   /* lowercase hex, no separators */

#endif
