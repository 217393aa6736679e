        .file   "host/realms.S"
/* The realm images embedded in the host: REALM_LIST (a comma-separated list of payload names,
 * set by stubs/Makefile) picks them; each is NAME.bin from the realm build, placed 4 KB aligned
 * and zero-padded to a whole number of 4 KB pages. realm_table[] lists them in order:
 * { const char *name; const uint8_t *start; const uint8_t *end; }. */
        .section .rodata.realms, "a"
        .irp    name, REALM_LIST
        .balign 4096
realm_image_\name:
        .incbin "\name\().bin"
        .balign 4096, 0
realm_image_end_\name:
        .endr

        .section .rodata
        .balign 8
        .global realm_table, realm_table_end
realm_table:
        .irp    name, REALM_LIST
        .quad   realm_name_\name, realm_image_\name, realm_image_end_\name
        .endr
realm_table_end:
        .irp    name, REALM_LIST
realm_name_\name:
        .asciz  "\name"
        .endr
