/* Shared declarations for the freestanding test programs (no libc). Each program stores what
 * it computes in results[] and returns checksum() from main; the test compares both with
 * Unicorn's run of the same image. */
#ifndef COMMON_H
#define COMMON_H

#include <stddef.h>
#include <stdint.h>

#define NRESULTS 64

extern uint64_t results[NRESULTS];

/* A fixed pseudo-random sequence (xorshift64*), the same on every run. */
uint64_t rand64(uint64_t *state);

/* FNV-1a style mix of all results[] words. */
uint64_t checksum(void);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
