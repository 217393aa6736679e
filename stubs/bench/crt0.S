/* Entry point of the compiled workloads: SP to the top of a stack in .bss, zero .bss, call
 * main, then BRK #0 (at bench_end) with main's return value in X0. */
    .file   "crt0.S"
    .section .text.start, "ax"
    .global _start
    .type   _start, %function
_start:
    adrp    x0, stack_top
    add     x0, x0, :lo12:stack_top
    mov     sp, x0
    adrp    x0, __bss_start
    add     x0, x0, :lo12:__bss_start
    adrp    x1, __bss_end
    add     x1, x1, :lo12:__bss_end
1:  cmp     x0, x1
    b.hs    2f
    str     xzr, [x0], #8
    b       1b
2:  bl      main
    .global bench_end
bench_end:
    brk     #0
    .size   _start, . - _start

    .section .bss.stack, "aw", %nobits
    .balign 16
    .space  16384
stack_top:
