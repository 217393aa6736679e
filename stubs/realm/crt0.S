        .file   "realm/crt0.S"
/* Realm payload start-up: the image header, REC entry points, the R-EL1 vectors and the
 * fault probes used by the isolation payload.
 *
 * Header (the first 32 bytes of the image, measured with it):
 *   0x00  b realm_entry     REC 0 starts at the IPA base (RmiRecParams.pc)
 *   0x04  0
 *   0x08  "PRLMMG01"        magic
 *   0x10  u32 number of RECs (vCPUs) the payload wants; REC n > 0 is started by PSCI CPU_ON
 *   0x14  u32 0 (flags, reserved)
 *   0x18  u64 bytes of RAM used from the IPA base (image + bss + stacks)
 */
#include "layout.h"

#ifndef NUM_RECS
#define NUM_RECS 1
#endif
#define STACK_SIZE 8192

        .section .text.head, "ax"
        .global _start
_start:
        b       realm_entry
        .word   0
        .word   REALM_MAGIC_LO, REALM_MAGIC_HI
        .word   NUM_RECS
        .word   0
        .quad   __ram_size

realm_entry:
        bl      set_vectors_and_stack
        ldr     x1, =__bss_start            /* zero .bss (the host maps each page on touch) */
        ldr     x2, =__bss_end
1:      cmp     x1, x2
        b.hs    2f
        str     xzr, [x1], #8
        b       1b
2:      bl      realm_init
        bl      realm_main
        b       realm_exit

/* PSCI CPU_ON entry point of the other RECs: x0 = context id. */
        .global secondary_entry
secondary_entry:
        mov     x19, x0
        bl      set_vectors_and_stack
        mrs     x0, mpidr_el1
        and     x0, x0, #0xF
        mov     x1, x19
        bl      secondary_main
        b       realm_cpu_off

set_vectors_and_stack:
        adr     x1, vectors
        msr     vbar_el1, x1
        isb
        mrs     x1, mpidr_el1
        and     x1, x1, #0xF                /* REC index (Aff0) */
        add     x1, x1, #1
        ldr     x2, =stacks
        mov     x3, #STACK_SIZE
        madd    x1, x1, x3, x2
        mov     sp, x1
        ret

/* R-EL1 vectors. A synchronous exception while a probe is armed (recover_pc != 0) records
 * ESR/FAR/ELR in last_fault and resumes at recover_pc; anything else is fatal. */
        .section .text.vectors, "ax"
        .balign 2048
vectors:
        .org    0x000
        b       fatal_vector
        .org    0x080
        b       fatal_vector
        .org    0x100
        b       fatal_vector
        .org    0x180
        b       fatal_vector
        .org    0x200
        b       sync_spx
        .org    0x280
        b       fatal_vector
        .org    0x300
        b       fatal_vector
        .org    0x380
        b       fatal_vector
        .org    0x400
        b       fatal_vector
        .org    0x800

sync_spx:
        adrp    x9, recover_pc
        ldr     x10, [x9, :lo12:recover_pc]
        cbz     x10, fatal_vector
        str     xzr, [x9, :lo12:recover_pc]
        adrp    x9, last_fault
        add     x9, x9, :lo12:last_fault
        mrs     x11, esr_el1
        str     x11, [x9, #0]
        mrs     x11, far_el1
        str     x11, [x9, #8]
        mrs     x11, elr_el1
        str     x11, [x9, #16]
        msr     elr_el1, x10
        eret

fatal_vector:
        mrs     x0, esr_el1
        mrs     x1, elr_el1
        mrs     x2, far_el1
        bl      realm_fatal
        b       realm_exit

/* uint64_t probe_load(uint64_t ipa): LDR from ipa; 0 and last_fault set if it faulted. */
        .text
        .global probe_load
probe_load:
        adrp    x9, last_fault
        str     xzr, [x9, :lo12:last_fault]
        adr     x10, 1f
        adrp    x9, recover_pc
        str     x10, [x9, :lo12:recover_pc]
        mov     x1, x0
        mov     x0, #0
        ldr     x0, [x1]
1:      adrp    x9, recover_pc
        str     xzr, [x9, :lo12:recover_pc]
        ret

/* void probe_exec(uint64_t ipa): branch to ipa (which should fault). */
        .global probe_exec
probe_exec:
        stp     x29, x30, [sp, #-16]!
        adrp    x9, last_fault
        str     xzr, [x9, :lo12:last_fault]
        adr     x10, 1f
        adrp    x9, recover_pc
        str     x10, [x9, :lo12:recover_pc]
        blr     x0
1:      adrp    x9, recover_pc
        str     xzr, [x9, :lo12:recover_pc]
        ldp     x29, x30, [sp], #16
        ret

/* void probe_hvc(void): HVC #0 from the realm (the RMM injects an UNDEF). */
        .global probe_hvc
probe_hvc:
        adrp    x9, last_fault
        str     xzr, [x9, :lo12:last_fault]
        adr     x10, 1f
        adrp    x9, recover_pc
        str     x10, [x9, :lo12:recover_pc]
        hvc     #0
1:      adrp    x9, recover_pc
        str     xzr, [x9, :lo12:recover_pc]
        ret

        .bss
        .balign 8
        .global recover_pc, last_fault
recover_pc:
        .quad   0
last_fault:                                 /* esr, far, elr */
        .quad   0, 0, 0

        .section .stacks, "aw", %nobits
        .balign 16
stacks:
        .space  STACK_SIZE * NUM_RECS
