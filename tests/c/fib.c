/* Recursion: naive Fibonacci and a pair of mutually recursive functions. */
#include "common.h"

volatile int limit = 20;

static uint64_t fib(int n)
{
    return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2);
}

static int is_odd(unsigned n);

static __attribute__((noinline)) int is_even(unsigned n)
{
    return n == 0 ? 1 : is_odd(n - 1);
}

static __attribute__((noinline)) int is_odd(unsigned n)
{
    return n == 0 ? 0 : is_even(n - 1);
}

uint64_t main(void)
{
    int n = limit;
    for (int i = 0; i <= n; i++)
        results[i] = fib(i);
    for (unsigned i = 0; i < 8; i++)
        results[32 + i] = (uint64_t)is_even(i * 37 + 5);
    return checksum();
}
