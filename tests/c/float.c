/* Floating point: double and float arithmetic, fused multiply-add, square root, rounding,
 * minimum/maximum, comparisons, conversions between integers, floats and doubles, and a few
 * numerical loops (Newton iteration, a series, Horner's rule, escape-time iteration). */
#include "common.h"

volatile double dseed = 1.6180339887498949;
volatile float fseed = 2.7182817f;
volatile int64_t iseed = -123456789012345LL;

static uint64_t dbits(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static uint64_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static double newton_sqrt(double x)
{
    double g = x > 1.0 ? x / 2.0 : 1.0;
    for (int i = 0; i < 30; i++)
        g = 0.5 * (g + x / g);
    return g;
}

static double horner(double x)
{
    static const double c[] = {1.0, -0.5, 0.25, -0.125, 0.0625, -0.03125, 0.015625};
    double r = 0.0;
    for (int i = 6; i >= 0; i--)
        r = r * x + c[i];
    return r;
}

static int escape(float cr, float ci)
{
    float zr = 0.0f, zi = 0.0f;
    int n = 0;
    while (n < 40 && zr * zr + zi * zi <= 4.0f) {
        float t = zr * zr - zi * zi + cr;
        zi = 2.0f * zr * zi + ci;
        zr = t;
        n++;
    }
    return n;
}

uint64_t main(void)
{
    double d = dseed;
    float f = fseed;
    int64_t i64 = iseed;
    int r = 0;

    results[r++] = dbits(d + 3.25) ^ dbits(d - 10.0) << 1;
    results[r++] = dbits(d * d * d) + dbits(d / 7.0);
    results[r++] = fbits(f * f + 1.5f) | fbits(f / 3.0f) << 32;
    results[r++] = dbits(__builtin_fma(d, 3.0, -1e-17)) ^ fbits(__builtin_fmaf(f, f, -f));
    results[r++] = dbits(__builtin_sqrt(d * 1e10)) ^ fbits(__builtin_sqrtf(f)) << 3;
    results[r++] = dbits(__builtin_floor(-d * 3)) ^ dbits(__builtin_ceil(d * 3)) << 1 ^
                   dbits(__builtin_trunc(-d * 5)) << 2 ^ dbits(__builtin_round(d + 0.5)) << 3;
    results[r++] = dbits(__builtin_fmin(d, -d)) ^ dbits(__builtin_fmax(d, 1.0 / 0.0)) << 1;
    results[r++] = (uint64_t)(d < f) | (uint64_t)(d >= 1.6) << 1 | (uint64_t)(f != f) << 2 |
                   (uint64_t)(-d > 0.0) << 3;
    results[r++] = dbits((double)i64) ^ fbits((float)i64) << 1;
    results[r++] = (uint64_t)(int64_t)(d * -1e12) ^ (uint64_t)(int32_t)(f * -1000.0f) << 1;
    results[r++] = (uint64_t)(d * 1e15) + (uint32_t)(f * 1e6f);
    results[r++] = dbits((double)(uint64_t)i64) ^ dbits((double)(int32_t)i64) << 1;
    results[r++] = dbits((double)f) ^ fbits((float)(d * 1e-40)) << 1 ^ fbits((float)d) << 2;
    results[r++] = dbits(newton_sqrt(d * 12345.0));
    results[r++] = dbits(horner(d - 1.0)) ^ dbits(horner(-0.3)) << 1;

    double series = 0.0;
    for (int k = 1; k <= 200; k++)
        series += 1.0 / ((double)k * (double)k);
    results[r++] = dbits(series);

    float fsum = 0.0f;
    for (int k = 0; k < 64; k++)
        fsum = fsum * 0.99f + (float)k * f;
    results[r++] = fbits(fsum);

    uint64_t counts = 0;
    for (int y = -4; y < 4; y++)
        for (int x = -6; x < 3; x++)
            counts = counts * 41 + (uint64_t)escape((float)x / 3.0f, (float)y / 3.0f);
    results[r++] = counts;
    return checksum();
}
