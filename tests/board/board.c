/* Board test program (NS-EL2): console output and input on UART0, a generic-timer interrupt
 * through the GICv3, a second CPU started with PSCI CPU_ON exchanging SGIs with the first,
 * then PSCI SYSTEM_OFF. The test checks the console transcript exactly. */

#include <stdint.h>

#define UART0           0x1C090000UL
#define UART_DR         0x000
#define UART_FR         0x018
#define UART_FR_RXFE    (1u << 4)
#define UART_FR_TXFF    (1u << 5)

#define GICD            0x2F000000UL
#define GICR(cpu)       (0x2F100000UL + 0x20000UL * (cpu))
#define GICR_WAKER      0x0014
#define GICR_SGI        0x10000
#define GICR_ISENABLER0 0x0100
#define GICR_IPRIORITYR 0x0400

#define PSCI_CPU_ON     0xC4000003UL
#define PSCI_SYSTEM_OFF 0x84000008UL

#define TIMER_INTID     26          /* NS-EL2 physical timer (CNTHP), PPI 10 */
#define SGI_PING        1
#define SGI_PONG        2

extern void secondary_entry(void);

static volatile uint32_t *reg32(uintptr_t addr) { return (volatile uint32_t *)addr; }

static void putc(char c)
{
    while (*reg32(UART0 + UART_FR) & UART_FR_TXFF)
        ;
    *reg32(UART0 + UART_DR) = (uint8_t)c;
}

static void puts(const char *s)
{
    while (*s)
        putc(*s++);
}

static void puthex(uint64_t v)
{
    puts("0x");
    for (int shift = 60; shift >= 0; shift -= 4)
        putc("0123456789abcdef"[(v >> shift) & 0xF]);
}

static int getc(void)
{
    while (*reg32(UART0 + UART_FR) & UART_FR_RXFE)
        ;
    return *reg32(UART0 + UART_DR) & 0xFF;
}

#define READ_SYSREG(name) ({ uint64_t _v; __asm__ volatile("mrs %0, " #name : "=r"(_v)); _v; })
#define WRITE_SYSREG(name, v) __asm__ volatile("msr " #name ", %0" :: "r"((uint64_t)(v)))

static uint64_t smc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t x0 __asm__("x0") = fid;
    register uint64_t x1 __asm__("x1") = a1;
    register uint64_t x2 __asm__("x2") = a2;
    register uint64_t x3 __asm__("x3") = a3;
    __asm__ volatile("smc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
    return x0;
}

static void gic_cpu_init(int cpu)
{
    uintptr_t rd = GICR(cpu);
    *reg32(rd + GICR_WAKER) &= ~(1u << 1);                 /* ProcessorSleep = 0 */
    while (*reg32(rd + GICR_WAKER) & (1u << 2))            /* ChildrenAsleep */
        ;
    WRITE_SYSREG(S3_4_C12_C9_5, 0x9);                      /* ICC_SRE_EL2: SRE, Enable */
    __asm__ volatile("isb");
    WRITE_SYSREG(S3_0_C4_C6_0, 0xFF);                      /* ICC_PMR_EL1 */
    WRITE_SYSREG(S3_0_C12_C12_7, 1);                       /* ICC_IGRPEN1_EL1 */
    __asm__ volatile("isb");
}

static void enable_ppi_sgi(int cpu, int intid)
{
    uintptr_t sgi = GICR(cpu) + GICR_SGI;
    ((volatile uint8_t *)(sgi + GICR_IPRIORITYR))[intid] = 0x80;
    *reg32(sgi + GICR_ISENABLER0) = 1u << intid;
}

static void send_sgi(int intid, uint64_t aff1)
{
    /* ICC_SGI1R_EL1: INTID, Aff1, TargetList bit 0 (Aff0 = 0) */
    WRITE_SYSREG(S3_0_C12_C11_5, ((uint64_t)intid << 24) | (aff1 << 16) | 1);
    __asm__ volatile("isb");
}

static volatile int timer_fired, pings, pongs;

void irq_handler(void)
{
    uint64_t intid = READ_SYSREG(S3_0_C12_C12_0) & 0xFFFFFF;   /* ICC_IAR1_EL1 */
    uint64_t cpu = (READ_SYSREG(mpidr_el1) >> 8) & 0xFF;
    if (intid == TIMER_INTID) {
        WRITE_SYSREG(S3_4_C14_C2_1, 0);                    /* CNTHP_CTL_EL2: disable */
        timer_fired = 1;
    } else if (intid == SGI_PING && cpu == 1) {
        pings++;
    } else if (intid == SGI_PONG && cpu == 0) {
        pongs++;
    }
    WRITE_SYSREG(S3_0_C12_C12_1, intid);                   /* ICC_EOIR1_EL1 */
}

void unexpected_exception(void)
{
    puts("unexpected exception, ESR_EL2 ");
    puthex(READ_SYSREG(esr_el2));
    puts("\n");
    smc(PSCI_SYSTEM_OFF, 0, 0, 0);
}

void secondary_main(void)
{
    gic_cpu_init(1);
    enable_ppi_sgi(1, SGI_PING);
    __asm__ volatile("msr daifclr, #2");
    while (!pings)
        __asm__ volatile("wfi");
    send_sgi(SGI_PONG, 0);                                 /* back to CPU 0 (Aff1 = 0) */
    for (;;)
        __asm__ volatile("wfi");
}

void main(void)
{
    char line[32];
    int n = 0;

    puts("board: hello from EL");
    putc('0' + (READ_SYSREG(CurrentEL) >> 2));
    puts("\nboard: type a line: ");
    for (int c = getc(); c != '\n' && c != '\r' && n < 31; c = getc())
        line[n++] = c;
    line[n] = 0;
    puts("\nboard: you typed '");
    puts(line);
    puts("'\n");

    *reg32(GICD) = 0x13;            /* GICD_CTLR (NS view): ARE_NS, EnableGrp1A, EnableGrp1 */
    gic_cpu_init(0);
    enable_ppi_sgi(0, TIMER_INTID);
    enable_ppi_sgi(0, SGI_PONG);
    WRITE_SYSREG(S3_4_C14_C2_2, READ_SYSREG(cntpct_el0) + 1000);  /* CNTHP_CVAL_EL2 */
    WRITE_SYSREG(S3_4_C14_C2_1, 1);                                /* CNTHP_CTL_EL2: enable */
    __asm__ volatile("msr daifclr, #2");
    while (!timer_fired)
        __asm__ volatile("wfi");
    puts("board: timer interrupt\n");

    uint64_t status = smc(PSCI_CPU_ON, 0x100, (uint64_t)secondary_entry, 0);
    puts("board: CPU_ON returned ");
    puthex(status);
    puts("\n");
    send_sgi(SGI_PING, 1);
    while (!pongs)
        __asm__ volatile("wfi");
    puts("board: SGI exchanged with cpu 1\n");
    puts("board: powering off\n");
    smc(PSCI_SYSTEM_OFF, 0, 0, 0);
}
