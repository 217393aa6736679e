/* Start-up for the board test program: entered at NS-EL2 with x0 = the DTB (arm64 boot
 * protocol) on CPU 0, and at secondary_entry by PSCI CPU_ON on CPU 1. */
        .section .text.start, "ax"
        .global _start
_start:
        adr     x1, vectors
        msr     vbar_el2, x1
        ldr     x1, =stack0_top
        mov     sp, x1
        ldr     x1, =__bss_start
        ldr     x2, =__bss_end
1:      cmp     x1, x2
        b.hs    2f
        str     xzr, [x1], #8
        b       1b
2:      bl      main
        b       .

        .global secondary_entry
secondary_entry:
        adr     x1, vectors
        msr     vbar_el2, x1
        ldr     x1, =stack1_top
        mov     sp, x1
        bl      secondary_main
        b       .

/* EL2 vectors: only IRQs from the current EL with SP_ELx are expected. */
        .section .text.vectors, "ax"
        .balign 2048
vectors:
        .org    0x200
        b       unexpected
        .org    0x280
        b       irq_entry
        .org    0x300
        b       unexpected
        .org    0x380
        b       unexpected
        .org    0x400
        b       unexpected
        .org    0x800

unexpected:
        bl      unexpected_exception
        b       .

irq_entry:
        stp     x29, x30, [sp, #-16]!
        stp     x0, x1, [sp, #-16]!
        stp     x2, x3, [sp, #-16]!
        stp     x4, x5, [sp, #-16]!
        stp     x6, x7, [sp, #-16]!
        stp     x8, x9, [sp, #-16]!
        stp     x10, x11, [sp, #-16]!
        stp     x12, x13, [sp, #-16]!
        stp     x14, x15, [sp, #-16]!
        stp     x16, x17, [sp, #-16]!
        stp     x18, xzr, [sp, #-16]!
        bl      irq_handler
        ldp     x18, xzr, [sp], #16
        ldp     x16, x17, [sp], #16
        ldp     x14, x15, [sp], #16
        ldp     x12, x13, [sp], #16
        ldp     x10, x11, [sp], #16
        ldp     x8, x9, [sp], #16
        ldp     x6, x7, [sp], #16
        ldp     x4, x5, [sp], #16
        ldp     x2, x3, [sp], #16
        ldp     x0, x1, [sp], #16
        ldp     x29, x30, [sp], #16
        eret

        .bss
        .balign 16
        .space  8192
stack0_top:
        .space  8192
stack1_top:
