/* The program tests/gdb drives under gdb: a few functions, globals, and a loop that never
 * ends unless `mode` says so. */

long counter;                    /* bumped by spin() forever */
long total;                      /* written once by main: the watchpoint target */
long table[8] = {1, 2, 3, 4, 5, 6, 7, 8};
volatile long mode;              /* 0: spin forever after the work; 1: return 42 */

long square(long x)
{
    return x * x;
}

long accumulate(long n)
{
    long sum = 0;
    for (long i = 0; i < n; i++)
        sum += square(table[i & 7]);
    return sum;
}

void spin(void)
{
    for (;;)
        counter++;
}

int main(void)
{
    long result = accumulate(8);
    total = result;
    if (mode == 1)
        return 42;
    spin();
    return 0;
}
