/* An EL3 image: entered at EL3 (Root) because its entry point is in trusted SRAM; prints
 * "EL3" on UART0 and powers off through the V2M SYS_CFGCTRL shutdown function. */
        .global _start
_start: mrs     x0, CurrentEL
        lsr     x0, x0, #2
        add     x0, x0, #'0'
        movz    x1, #0x1c09, lsl #16
        mov     w2, #'E'
        strb    w2, [x1]
        mov     w2, #'L'
        strb    w2, [x1]
        strb    w0, [x1]
        mov     w2, #'\n'
        strb    w2, [x1]
        movz    x1, #0x1c01, lsl #16
        movk    x1, #0x00a4
        movz    w2, #0xc080, lsl #16    // SYS_CFGCTRL: START, WRITE, FUNC 8 (shutdown)
        str     w2, [x1]
        b       .
