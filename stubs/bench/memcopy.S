/* Benchmark workload `memcopy`: ROUNDS times, memset a SIZE-byte buffer with a per-round
 * pattern, copy it to a second buffer, and fold the copy into a checksum; 64 bytes per
 * iteration with STP/LDP (offset and post-index forms). BRK #0 with the checksum in X0. */
    .file   "memcopy.S"
    .equ    SIZE, 65536
    .equ    ROUNDS, 120

    .text
    .global _start
    .type   _start, %function
_start:
    adrp    x20, src
    add     x20, x20, :lo12:src
    adrp    x21, dst
    add     x21, x21, :lo12:dst
    mov     x22, #ROUNDS
    mov     x23, #0x0101010101010101
    mov     x24, #0

round:
    mul     x10, x22, x23               /* memset(src, round, SIZE) */
    eor     x11, x10, x22, lsl #32
    mov     x0, x20
    mov     x1, #(SIZE / 64)
1:  stp     x10, x11, [x0]
    stp     x11, x10, [x0, #16]
    stp     x10, x10, [x0, #32]
    stp     x11, x11, [x0], #64
    subs    x1, x1, #1
    b.ne    1b

    mov     x0, x20                     /* memcpy(dst, src, SIZE) */
    mov     x2, x21
    mov     x1, #(SIZE / 64)
2:  ldp     x3, x4, [x0]
    ldp     x5, x6, [x0, #16]
    ldp     x7, x8, [x0, #32]
    ldp     x12, x13, [x0], #64
    stp     x3, x4, [x2]
    stp     x5, x6, [x2, #16]
    stp     x7, x8, [x2, #32]
    stp     x12, x13, [x2], #64
    subs    x1, x1, #1
    b.ne    2b

    mov     x0, x21                     /* checksum(dst) */
    mov     x1, #(SIZE / 16)
3:  ldp     x3, x4, [x0], #16
    add     x24, x24, x3
    eor     x24, x4, x24, ror #13
    subs    x1, x1, #1
    b.ne    3b

    subs    x22, x22, #1
    b.ne    round
    mov     x0, x24
    .global bench_end
bench_end:
    brk     #0
    .size   _start, . - _start

    .bss
    .balign 16
src:    .space  SIZE
dst:    .space  SIZE
