/* Benchmark workload `sort_crc` (built with -O2): insertion sort and quicksort of
 * pseudo-random arrays, a bitwise CRC32 over a buffer and a recursive Fibonacci -- branch-
 * and call-heavy compiled code. main's return value (a checksum) ends up in X0. */
#include <stddef.h>
#include <stdint.h>

#define INSERTION_N 800
#define QUICK_N 8000
#define CRC_LEN 16384
#define FIB_N 24

static uint64_t ins[INSERTION_N];
static uint32_t quick[QUICK_N];
static unsigned char buf[CRC_LEN];
volatile int fib_n = FIB_N;

static uint64_t rand64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static void insertion_sort(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        uint64_t key = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > key) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = key;
    }
}

static void quicksort(uint32_t *v, int lo, int hi)
{
    if (lo >= hi)
        return;
    uint32_t pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
        while (v[i] < pivot)
            i++;
        while (v[j] > pivot)
            j--;
        if (i <= j) {
            uint32_t t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
    }
    quicksort(v, lo, j);
    quicksort(v, i, hi);
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
    }
    return ~crc;
}

static uint64_t fib(int n)
{
    return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2);
}

uint64_t main(void)
{
    uint64_t st = 0x9E3779B97F4A7C15ULL, h = 0;
    for (int i = 0; i < INSERTION_N; i++)
        ins[i] = rand64(&st);
    for (int i = 0; i < QUICK_N; i++)
        quick[i] = (uint32_t)rand64(&st);
    for (int i = 0; i < CRC_LEN; i++)
        buf[i] = (unsigned char)rand64(&st);

    insertion_sort(ins, INSERTION_N);
    quicksort(quick, 0, QUICK_N - 1);
    for (int i = 0; i < INSERTION_N; i++)
        h = (h ^ ins[i]) * 0x100000001B3ULL;
    for (int i = 0; i < QUICK_N; i += 7)
        h = (h ^ quick[i]) * 0x100000001B3ULL;
    h ^= crc32(buf, CRC_LEN);
    h += fib(fib_n);
    return h;
}
