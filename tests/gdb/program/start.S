/* Entry point of the gdb test program: EL1, MMU off. Sets up a stack, zeroes .bss, calls
 * main with frame pointer and link register cleared (so backtraces end here) and stops
 * with BRK #0, main's return value in X0 (the stub reports the program's exit). */
    .file   "start.S"
    .section .text.start, "ax"
    .global _start
    .type _start, %function
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
2:  mov     x29, xzr
    mov     x30, xzr
    bl      main
    brk     #0
    .size _start, . - _start

    .section .bss.stack, "aw", %nobits
    .balign 16
    .space  16384
stack_top:
