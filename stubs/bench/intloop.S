/* Benchmark workload `intloop`: a tight six-instruction integer loop (register-register
 * ADD/EOR/SUB with shifts, SUBS, B.NE), ITERATIONS times, then BRK #0 with a checksum in X0. */
    .file   "intloop.S"
    .equ    ITERATIONS, 1000000

    .text
    .global _start
    .type   _start, %function
_start:
    movz    x0, #(ITERATIONS & 0xFFFF)
    movk    x0, #(ITERATIONS >> 16), lsl #16
    mov     x1, #0x1234
    mov     x2, #0x5678
    mov     x3, #0
1:  add     x1, x1, x0
    eor     x2, x2, x1, ror #7
    add     x3, x3, x2, lsr #3
    sub     x1, x1, x3, lsl #1
    subs    x0, x0, #1
    b.ne    1b
    eor     x0, x1, x2
    add     x0, x0, x3
    .global bench_end
bench_end:
    brk     #0
    .size   _start, . - _start
