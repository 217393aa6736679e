/* The realm payloads' runtime: RSI and PSCI calls (shared/reference/rsi-measurement-
 * attestation.md), the console on the host-emulated UART, and the fault probes. */
#ifndef REALM_H
#define REALM_H

#include "../common/arch.h"
#include "layout.h"

#define RSI_VERSION                 0xC4000190UL
#define RSI_FEATURES                0xC4000191UL
#define RSI_MEASUREMENT_READ        0xC4000192UL
#define RSI_MEASUREMENT_EXTEND      0xC4000193UL
#define RSI_ATTEST_TOKEN_INIT       0xC4000194UL
#define RSI_ATTEST_TOKEN_CONTINUE   0xC4000195UL
#define RSI_REALM_CONFIG            0xC4000196UL
#define RSI_IPA_STATE_SET           0xC4000197UL
#define RSI_IPA_STATE_GET           0xC4000198UL
#define RSI_HOST_CALL               0xC4000199UL

#define RSI_SUCCESS         0
#define RSI_ERROR_INPUT     1
#define RSI_ERROR_STATE     2
#define RSI_INCOMPLETE      3

#define RSI_RIPAS_EMPTY     0
#define RSI_RIPAS_RAM       1
#define RSI_NO_CHANGE_DESTROYED 0
#define RSI_CHANGE_DESTROYED    1
#define RSI_ACCEPT          0
#define RSI_REJECT          1

#define PSCI_CPU_OFF        0x84000002UL
#define PSCI_CPU_ON         0xC4000003UL
#define PSCI_SYSTEM_OFF     0x84000008UL
#define SMCCC_VERSION       0x80000000UL

/* RsiRealmConfig (one granule) */
struct rsi_realm_config {
    uint64_t ipa_width;         /* 0x000 */
    uint8_t hash_algo;          /* 0x008 */
    uint8_t pad0[7];
    uint64_t num_aux_planes;    /* 0x010 */
    uint32_t gicv3_vtr;         /* 0x018 */
    uint32_t pad1;
    uint64_t ats_plane;         /* 0x020 */
    uint8_t pad2[0x200 - 0x28];
    uint8_t rpv[64];            /* 0x200 */
    uint8_t pad3[0x1000 - 0x240];
};

/* RsiHostCall (256-byte aligned) */
struct rsi_host_call {
    uint32_t imm;
    uint32_t pad;
    uint64_t gprs[31];
};

extern struct rsi_realm_config realm_config;   /* filled by realm_init() */
extern uint64_t unprotected_base;              /* 2^(ipa_width - 1) */
extern struct { uint64_t esr, far, elr; } last_fault;

/* One SMC from the realm: x0 = fid, x1..x10 = args; returns the register block. */
struct smc_regs rsi_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);

void realm_init(void);
void realm_fatal(uint64_t esr, uint64_t elr, uint64_t far);
void realm_exit(void) __attribute__((noreturn));        /* PSCI SYSTEM_OFF */
void realm_cpu_off(void) __attribute__((noreturn));     /* PSCI CPU_OFF */

/* crt0.S */
void secondary_entry(void);
uint64_t probe_load(uint64_t ipa);
void probe_exec(uint64_t ipa);
void probe_hvc(void);

/* Each payload defines realm_main (REC 0) and, if it has more RECs, secondary_main. */
void realm_main(void);
void secondary_main(uint64_t cpu, uint64_t context);

#define PAGE_BSS __attribute__((aligned(4096), section(".bss.pages")))

#endif
