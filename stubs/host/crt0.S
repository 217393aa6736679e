        .file   "host/crt0.S"
/* Start-up of the host at NS-EL2 (entered with x0 = the DTB, MMU and caches off, DAIF
 * masked), its EL2 vectors and the IRQ entry. */
        .section .text.start, "ax"
        .global _start
_start:
        adr     x1, vectors
        msr     vbar_el2, x1
        isb
        ldr     x1, =stack_top
        mov     sp, x1
        mov     x19, x0
        ldr     x1, =__bss_start
        ldr     x2, =__bss_end
1:      cmp     x1, x2
        b.hs    2f
        str     xzr, [x1], #8
        b       1b
2:      mov     x0, x19
        bl      main
        b       power_off

        .section .text.vectors, "ax"
        .balign 2048
vectors:
        .org    0x000
        b       bad_exception           /* current EL, SP0 */
        .org    0x080
        b       bad_exception
        .org    0x100
        b       bad_exception
        .org    0x180
        b       bad_exception
        .org    0x200
        b       bad_exception           /* current EL, SPx: synchronous */
        .org    0x280
        b       irq_entry
        .org    0x300
        b       bad_exception
        .org    0x380
        b       bad_exception
        .org    0x400
        b       bad_exception           /* lower EL: the host runs no EL1 guest */
        .org    0x480
        b       bad_exception
        .org    0x500
        b       bad_exception
        .org    0x580
        b       bad_exception
        .org    0x800

bad_exception:
        mrs     x0, esr_el2
        mrs     x1, elr_el2
        mrs     x2, far_el2
        bl      host_exception
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
        mrs     x0, elr_el2
        mrs     x1, spsr_el2
        stp     x0, x1, [sp, #-16]!
        stp     x18, xzr, [sp, #-16]!
        bl      irq_handler
        ldp     x18, xzr, [sp], #16
        ldp     x0, x1, [sp], #16
        msr     elr_el2, x0
        msr     spsr_el2, x1
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
        .space  16384
stack_top:
