/* Quicksort and insertion sort of pseudo-random arrays (unsigned 64-bit and signed 32-bit). */
#include "common.h"

#define N 160

volatile uint64_t seed = 0x5EED5EED12345678ULL;
static uint64_t a[N], b[N];
static int32_t c[N];

static void insertion_sort_u64(uint64_t *v, int n)
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

static void quicksort_u64(uint64_t *v, int lo, int hi)
{
    while (lo < hi) {
        uint64_t pivot = v[lo + (hi - lo) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                uint64_t t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (j - lo < hi - i) {
            quicksort_u64(v, lo, j);
            lo = i;
        } else {
            quicksort_u64(v, i, hi);
            hi = j;
        }
    }
}

static void quicksort_s32(int32_t *v, int lo, int hi)
{
    if (lo >= hi)
        return;
    int32_t pivot = v[hi];
    int i = lo;
    for (int j = lo; j < hi; j++) {
        if (v[j] < pivot) {
            int32_t t = v[i];
            v[i] = v[j];
            v[j] = t;
            i++;
        }
    }
    int32_t t = v[i];
    v[i] = v[hi];
    v[hi] = t;
    quicksort_s32(v, lo, i - 1);
    quicksort_s32(v, i + 1, hi);
}

static uint64_t hash_u64(const uint64_t *v, int n)
{
    uint64_t h = 0;
    for (int i = 0; i < n; i++)
        h = (h ^ v[i]) * 0x100000001B3ULL + (uint64_t)i;
    return h;
}

uint64_t main(void)
{
    uint64_t st = seed;
    for (int i = 0; i < N; i++) {
        a[i] = b[i] = rand64(&st) >> (i & 7);
        c[i] = (int32_t)rand64(&st) >> (i & 15);
    }
    a[7] = a[8] = a[9];                      /* duplicates */
    insertion_sort_u64(a, N);
    quicksort_u64(b, 0, N - 1);
    quicksort_s32(c, 0, N - 1);

    uint64_t sorted = 0, same = 0;
    for (int i = 1; i < N; i++) {
        sorted += a[i - 1] <= a[i];
        sorted += (b[i - 1] <= b[i]) << 8;
        sorted += (uint64_t)(c[i - 1] <= c[i]) << 16;
    }
    for (int i = 0; i < N; i++)
        same += a[i] == b[i];
    results[0] = hash_u64(a, N);
    results[1] = hash_u64(b, N);
    results[2] = sorted;
    results[3] = same;
    results[4] = a[0];
    results[5] = a[N - 1];
    results[6] = (uint64_t)(int64_t)c[0];
    results[7] = (uint64_t)(int64_t)c[N - 1];
    for (int i = 0; i < 16; i++)
        results[8 + i] = (uint64_t)(int64_t)c[i * 10];
    return checksum();
}
