/* The host's platform layer on the FVP Base RevC (machine/board/fvp.py):
 * - PL011 UART0 at 0x1C09_0000 (console, polled);
 * - GICv3: distributor 0x2F00_0000, redistributor of CPU 0 at 0x2F10_0000;
 * - the NS-EL2 physical timer (CNTHP, PPI 10 = INTID 26) as a periodic tick: while a realm
 *   runs, the tick is what makes the RMM return with RMI_EXIT_IRQ;
 * - stage 1 MMU at EL2: identity map with 4 KB pages and 2 MB blocks, Normal WB for NS DRAM
 *   [0x8000_0000, 0xFC00_0000), Device-nGnRnE for the UART/V2M page and the GIC.
 */

#include "platform.h"

#define UART0           0x1C090000UL
#define V2M_SYSREGS     0x1C010000UL
#define UART_DR         0x000
#define UART_FR         0x018
#define UART_FR_RXFE    (1u << 4)
#define UART_FR_TXFF    (1u << 5)

#define GICD            0x2F000000UL
#define GICR0           0x2F100000UL
#define GICR_WAKER      0x0014
#define GICR_SGI        0x10000
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400
#define TIMER_INTID     26

#define DRAM_BASE       0x80000000UL
#define DRAM_TOP        0xFC000000UL      /* NS DRAM1 ends where the RME carve-outs start */

static volatile uint32_t *reg32(uintptr_t addr) { return (volatile uint32_t *)addr; }

void console_putc(char c)
{
    while (*reg32(UART0 + UART_FR) & UART_FR_TXFF)
        ;
    *reg32(UART0 + UART_DR) = (uint8_t)c;
}

int uart_getc(void)
{
    while (*reg32(UART0 + UART_FR) & UART_FR_RXFE)
        wfi();
    return *reg32(UART0 + UART_DR) & 0xFF;
}

void power_off(void)
{
    struct smc_regs r;
    for (;;) {
        memset(&r, 0, sizeof(r));
        r.x[0] = PSCI_SYSTEM_OFF;
        smc_call(&r);
    }
}

/* --- MMU --------------------------------------------------------------------------------- */

#define PTE_TABLE       3UL
#define PTE_BLOCK       1UL
#define PTE_PAGE        3UL
#define PTE_ATTR(n)     ((uint64_t)(n) << 2)
#define PTE_AP_RW       (1UL << 6)        /* AP[2:1] = 0b01: RW (AP[1] is RES1 at EL2) */
#define PTE_SH_INNER    (3UL << 8)
#define PTE_AF          (1UL << 10)
#define PTE_XN          (1UL << 54)
#define ATTR_DEVICE     0                 /* MAIR attr0 = 0x00: Device-nGnRnE */
#define ATTR_NORMAL     1                 /* MAIR attr1 = 0xFF: Normal WB RW-allocate */

#define MEM_BLOCK   (PTE_BLOCK | PTE_ATTR(ATTR_NORMAL) | PTE_AP_RW | PTE_SH_INNER | PTE_AF)
#define DEV_BLOCK   (PTE_BLOCK | PTE_ATTR(ATTR_DEVICE) | PTE_AP_RW | PTE_AF | PTE_XN)
#define DEV_PAGE    (PTE_PAGE | PTE_ATTR(ATTR_DEVICE) | PTE_AP_RW | PTE_AF | PTE_XN)

static uint64_t pt_l1[512] ALIGNED(4096);            /* 39-bit VA: level 1 start, 1 GB each */
static uint64_t pt_l2_dev[512] ALIGNED(4096);        /* [0, 1 GB) */
static uint64_t pt_l3_uart[512] ALIGNED(4096);       /* [0x1C00_0000, 0x1C20_0000) */
static uint64_t pt_l2_ram[2][512] ALIGNED(4096);     /* [2 GB, 4 GB) */

void mmu_init(void)
{
    /* devices: 4 KB pages for the V2M system registers and UART0, 2 MB blocks for the GIC */
    pt_l3_uart[(V2M_SYSREGS >> 12) & 511] = V2M_SYSREGS | DEV_PAGE;
    pt_l3_uart[(UART0 >> 12) & 511] = UART0 | DEV_PAGE;
    pt_l2_dev[UART0 >> 21] = (uint64_t)pt_l3_uart | PTE_TABLE;
    for (uint64_t pa = GICD; pa < GICR0 + 0x200000; pa += 0x200000)
        pt_l2_dev[pa >> 21] = pa | DEV_BLOCK;
    pt_l1[0] = (uint64_t)pt_l2_dev | PTE_TABLE;
    /* NS DRAM: 2 MB blocks */
    for (uint64_t pa = DRAM_BASE; pa < DRAM_TOP; pa += 0x200000)
        pt_l2_ram[(pa - DRAM_BASE) >> 30][(pa >> 21) & 511] = pa | MEM_BLOCK;
    pt_l1[2] = (uint64_t)pt_l2_ram[0] | PTE_TABLE;
    pt_l1[3] = (uint64_t)pt_l2_ram[1] | PTE_TABLE;
    dsb(ish);

    WRITE_SYSREG(mair_el2, 0xFF00UL);
    /* TCR_EL2: RES1 bits 31 and 23, PS = 48 bits, TG0 = 4 KB, SH0 inner, WB caches, T0SZ 25 */
    WRITE_SYSREG(tcr_el2, (1UL << 31) | (1UL << 23) | (5UL << 16) | (0UL << 14) |
                          (3UL << 12) | (1UL << 10) | (1UL << 8) | 25UL);
    WRITE_SYSREG(ttbr0_el2, (uint64_t)pt_l1);
    isb();
    __asm__ volatile("tlbi alle2" ::: "memory");
    dsb(ish);
    isb();
    /* SCTLR_EL2: RES1 bits | I | SA | C | M */
    WRITE_SYSREG(sctlr_el2, 0x30C50830UL | (1UL << 12) | (1UL << 3) | (1UL << 2) | 1UL);
    isb();
}

/* --- GIC and the tick -------------------------------------------------------------------- */

static volatile uint64_t ticks;
static uint64_t tick_period;

void gic_init(void)
{
    uintptr_t sgi = GICR0 + GICR_SGI;
    *reg32(GICD) = 0x13;                         /* GICD_CTLR (NS): ARE_NS, EnableGrp1A/1 */
    *reg32(GICR0 + GICR_WAKER) &= ~(1u << 1);    /* ProcessorSleep = 0 */
    while (*reg32(GICR0 + GICR_WAKER) & (1u << 2))
        ;
    WRITE_SYSREG(S3_4_C12_C9_5, 0x9);            /* ICC_SRE_EL2: SRE, Enable */
    isb();
    WRITE_SYSREG(S3_0_C4_C6_0, 0xFF);            /* ICC_PMR_EL1 */
    WRITE_SYSREG(S3_0_C12_C12_7, 1);             /* ICC_IGRPEN1_EL1 */
    isb();
    ((volatile uint8_t *)(sgi + GICR_IPRIORITYR))[TIMER_INTID] = 0x80;
    *reg32(sgi + GICR_ISENABLER0) = 1u << TIMER_INTID;
}

void timer_init(uint64_t period)
{
    tick_period = period;
    WRITE_SYSREG(S3_4_C14_C2_2, READ_SYSREG(cntpct_el0) + period);   /* CNTHP_CVAL_EL2 */
    WRITE_SYSREG(S3_4_C14_C2_1, 1);                                   /* CNTHP_CTL_EL2 */
    isb();
    __asm__ volatile("msr daifclr, #2");
}

uint64_t timer_ticks(void)
{
    return ticks;
}

void irq_handler(void)
{
    uint64_t intid = READ_SYSREG(S3_0_C12_C12_0) & 0xFFFFFF;   /* ICC_IAR1_EL1 */
    if (intid >= 1020)
        return;                                                /* spurious */
    if (intid == TIMER_INTID) {
        ticks++;
        WRITE_SYSREG(S3_4_C14_C2_2, READ_SYSREG(cntpct_el0) + tick_period);
        isb();
    }
    WRITE_SYSREG(S3_0_C12_C12_1, intid);                        /* ICC_EOIR1_EL1 */
}

void host_exception(uint64_t esr, uint64_t elr, uint64_t far)
{
    print("host: unexpected exception at EL2: ESR ");
    print_hex(esr);
    print(" ELR ");
    print_hex(elr);
    print(" FAR ");
    print_hex(far);
    print("\nhost: FAILED\n");
    power_off();
}
