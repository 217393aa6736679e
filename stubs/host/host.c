/* A minimal Arm CCA host hypervisor at NS-EL2 for the modelled FVP Base RevC: it creates,
 * runs and destroys realms through RMI v2.0 (shared/reference/rmi-v2-host-abi.md, sections
 * 7-9), one realm at a time, printing one "host: ..." line per step.
 *
 * What a RIM tool needs to know (everything below is fixed by this file and
 * stubs/realm/layout.h; the images are embedded by realms.S):
 *
 * Realm parameters (RMI_REALM_CREATE, RmiRealmParams): flags0 = 0, s2sz = 40, sve_vl = 0,
 *   num_bps = 1, num_wps = 1, pmu_num_ctrs = 0, algorithm = 0 (SHA-256), num_aux_planes = 0,
 *   rpv = "fvp-rme realm NAME" zero-padded to 64 bytes (not measured), rtt_level_start = 1,
 *   rtt_num_start = 2, flags1 = 0. (0x800 holds the RMI 1.0 vmid slot, written 1, ignored.)
 *
 * Realm IPA map (s2sz = 40: protected half [0, 2^39), unprotected half [2^39, 2^40)):
 *   [0x8000_0000, 0x8020_0000)  realm RAM: RTT_INIT_RIPAS to RAM before anything is mapped;
 *                               one L2 RTT (for [0x8000_0000, 0xC000_0000)) and one L3 RTT
 *                               (for these 2 MB) are created first.
 *     0x8000_0000 ...           the realm image, measured: page i of the image (the .bin
 *                               zero-padded to whole 4 KB pages) is mapped with
 *                               RMI_RTT_DATA_MAP_INIT at IPA 0x8000_0000 + i * 0x1000 with
 *                               flags = 1 (content measured), in increasing IPA order, from
 *                               the copy embedded in this host (NS memory) as the source.
 *     the rest of the 2 MB      RIPAS RAM, unmeasured: a page is given (RMI_RTT_DATA_MAP of a
 *                               zeroed, freshly delegated granule) when the realm first
 *                               touches it (a data/instruction abort exit in the PAR).
 *   rest of [0, 2^39)           RIPAS EMPTY, never mapped (the RMM injects an SEA).
 *   2^39 + 0x0100_0000          the realm console: one 4 KB page the host emulates as a
 *   (= 0x80_0100_0000)          write-only PL011 (DR at +0x00, FR at +0x18 reads TXFE|RXFE);
 *                               never mapped: every access is an emulatable data abort. Each
 *                               line the realm writes is printed as "realm: <text>".
 *   the rest of [2^39, 2^40)    not mapped; the host answers an access with INJECT_SEA.
 *
 * RECs: the image header (stubs/realm/crt0.S) says how many. REC n is created with
 *   RmiRecParams flags = RUNNABLE for n = 0 and 0 otherwise, mpidr = n, pc = 0x8000_0000,
 *   gprs[0..7] = 0, in index order, all before RMI_REALM_ACTIVATE (RMI 2.0 only creates RECs
 *   in a NEW realm), each through the REC_CREATE SRO with 16 aux granules donated. Only
 *   REC 0 is measured (runnable); the others are started by the realm's PSCI CPU_ON, which
 *   the host completes with RMI_PSCI_COMPLETE; the caller goes on and the target is entered
 *   when the caller waits (WFI/WFE are trapped), is interrupted or turns off.
 *
 * So RIM = REALM_CREATE(params above) -> DATA(IPA 0x8000_0000 + i * 4 KB, flags 1, page i)
 *   for each image page in order -> REC(flags 1, pc 0x8000_0000, gprs 0).
 *
 * Physical memory: this image at 0x8400_0000; NS pages it hands the RMM (RmiRealmParams,
 * RmiRecParams, address lists, one RmiRecRun per REC) in its .bss; the granules it delegates
 * come from [__pool_start, 0x8800_0000) (see link.ld), all undelegated again when the realm
 * is destroyed.
 *
 * Built twice from these sources (stubs/Makefile): host.elf runs REALM_LIST in turn (make
 * REALMS="..."; default: hello, then attest), prints "host: all done" and powers off;
 * host-interactive.elf (-DINTERACTIVE) embeds every payload and reads commands on UART0 at
 * the prompt "fvp-rme> ". An unexpected RMI status prints "host: <COMMAND> failed: status N
 * index M"; host.elf then prints "host: FAILED" and powers off (PSCI SYSTEM_OFF).
 */

#include "../common/arch.h"
#include "../realm/layout.h"
#include "platform.h"
#include "rmi.h"

#define S2SZ                40
#define RTT_LEVEL_START     1
#define RTT_NUM_START       2
#define REALM_NUM_BPS       1
#define REALM_NUM_WPS       1
#define HASH_SHA_256        0
#define UNPROTECTED         (1UL << (S2SZ - 1))
#define CONSOLE_IPA         (UNPROTECTED + REALM_CONSOLE_OFF)
#define RAM_TOP             (REALM_IPA_BASE + REALM_RAM_SIZE)

#define MAX_RANGES          64
#define MAX_RTTS            16
#define MAX_EXITS           200000
#define SRO_MAX_STEPS       1000
#define MAX_STALLS          100
#define LINE_MAX            200

#define PSCI_CPU_SUSPEND    0x84000001UL
#define PSCI_CPU_SUSPEND64  0xC4000001UL
#define PSCI_CPU_OFF        0x84000002UL
#define PSCI_CPU_ON         0x84000003UL
#define PSCI_CPU_ON64       0xC4000003UL
#define PSCI_AFFINITY       0x84000004UL
#define PSCI_AFFINITY64     0xC4000004UL
#define PSCI_SYSTEM_RESET   0x84000009UL
#define SMCCC_VERSION       0x80000000UL

#define ESR_EC(esr)         ((esr) >> 26)
#define ESR_ISV             (1UL << 24)
#define ESR_WNR             (1UL << 6)
#define EC_WFX              0x01
#define EC_SYSREG           0x18
#define EC_IABT_LOWER       0x20
#define EC_DABT_LOWER       0x24

#define ICH_LR_PENDING      (1UL << 62)
#define ICH_LR_GROUP1       (1UL << 60)
#define VTIMER_INTID        27

struct realm_image {
    const char *name;
    const uint8_t *start, *end;
};
extern const struct realm_image realm_table[], realm_table_end[];
extern uint8_t __pool_start[], __pool_end[];

/* --- NS pages shared with the RMM ---------------------------------------------------------- */

static uint8_t params_page[GRANULE] ALIGNED(GRANULE);    /* RmiRealmParams, RmiRecParams */
static uint8_t config_page[GRANULE] ALIGNED(GRANULE);    /* RmiRmmConfig */
static uint64_t list_page[512] ALIGNED(GRANULE);         /* RMI address lists */
static uint8_t run_pages[REALM_MAX_RECS][GRANULE] ALIGNED(GRANULE);   /* RmiRecRun per REC */

static uint64_t rd64(const void *base, unsigned off)
{
    return *(const volatile uint64_t *)((const uint8_t *)base + off);
}

static void wr64(void *base, unsigned off, uint64_t v)
{
    *(volatile uint64_t *)((uint8_t *)base + off) = v;
}

static uint64_t pa_of(const void *p)
{
    return (uint64_t)p;             /* the host's stage 1 is an identity map */
}

/* --- the granule pool: everything delegated, so that it can all be undelegated ------------ */

static uint64_t pool_next;
static struct { uint64_t base, count; } ranges[MAX_RANGES];
static unsigned nranges;
static uint64_t delegated_granules;

static void record_range(uint64_t base, uint64_t count)
{
    if (nranges && ranges[nranges - 1].base + ranges[nranges - 1].count * GRANULE == base) {
        ranges[nranges - 1].count += count;
    } else {
        ranges[nranges].base = base;
        ranges[nranges].count = count;
        nranges++;
    }
    delegated_granules += count;
}

/* `n` granules aligned to `align` bytes, delegated; 0 (after a message) on failure. */
static uint64_t alloc_delegated(uint64_t n, uint64_t align)
{
    uint64_t base = (pool_next + align - 1) & ~(align - 1), top = base + n * GRANULE;
    if (top > pa_of(__pool_end) || nranges == MAX_RANGES) {
        print("host: granule pool exhausted\n");
        return 0;
    }
    uint64_t next = base;
    bool ok = true;
    while (next < top) {
        struct rmi_out o = rmi_call(RMI_GRANULE_RANGE_DELEGATE, next, top, 0, 0, 0);
        if (!rmi_expect(RMI_GRANULE_RANGE_DELEGATE, o.x0, RMI_SUCCESS)) {
            ok = false;
            break;
        }
        if (o.x1 <= next || o.x1 > top || o.x1 % GRANULE) {
            print("host: RMI_GRANULE_RANGE_DELEGATE made no progress\n");
            ok = false;
            break;
        }
        next = o.x1;
    }
    if (next > base)
        record_range(base, (next - base) / GRANULE);
    pool_next = next > base ? next : pool_next;
    return ok ? base : 0;
}

static bool undelegate_all(void)
{
    uint64_t count = 0;
    while (nranges) {
        uint64_t base = ranges[nranges - 1].base;
        uint64_t top = base + ranges[nranges - 1].count * GRANULE;
        while (base < top) {
            struct rmi_out o = rmi_call(RMI_GRANULE_RANGE_UNDELEGATE, base, top, 0, 0, 0);
            if (!rmi_expect(RMI_GRANULE_RANGE_UNDELEGATE, o.x0, RMI_SUCCESS) ||
                o.x1 <= base || o.x1 > top) {
                ranges[nranges - 1].count = (top - base) / GRANULE;
                ranges[nranges - 1].base = base;
                return false;
            }
            count += (o.x1 - base) / GRANULE;
            delegated_granules -= (o.x1 - base) / GRANULE;
            base = o.x1;
        }
        nranges--;
    }
    pool_next = pa_of(__pool_start);
    step_ok(RMI_GRANULE_RANGE_UNDELEGATE);
    print(" (");
    print_dec(count);
    print(" granules back to Non-secure)\n");
    return true;
}

/* --- the realm ------------------------------------------------------------------------------ */

enum realm_state { REALM_NONE, REALM_NEW, REALM_ACTIVE, REALM_OFF };
__attribute__((unused)) static const char *const state_names[] = {"none", "new", "active", "off"};

struct host_rec {
    uint64_t pa;
    bool created, runnable, entered;
    uint64_t enter_flags;           /* RmiRecEnter.flags for its next entry */
    uint64_t lr0;                   /* its ICH_LR0_EL2 while it does not run */
    char line[LINE_MAX + 1];        /* console output not printed yet */
    unsigned len;
};

struct exit_counts {
    uint64_t total, mmio, mapped, sea, irq, wfx, psci, ripas, host_call, sysreg;
};

static struct host_realm {
    const struct realm_image *image;
    enum realm_state state;
    bool rd_live, terminated, data_unmapped;
    uint64_t rd, root, image_pages;
    unsigned nrecs;
    struct host_rec recs[REALM_MAX_RECS];
    struct { uint64_t pa, ipa, level; } rtts[MAX_RTTS];
    unsigned nrtts;
    struct exit_counts exits;
} realm;

static uint64_t feat0, feat1;
static bool rmm_ready;

static void print_ipa_range(uint64_t base, uint64_t top)
{
    print("[");
    print_hex(base);
    print(", ");
    print_hex(top);
    print(")");
}

/* Drive a stateful RMI operation (section 6.5) until it is no longer RMI_INCOMPLETE: donate
 * the memory it asks for (delegated granules from the pool), take back what it reclaims, and
 * continue (again, while the RMM is BUSY). `o` holds the initiating command's result and
 * then the terminal one. */
static bool sro_run(struct rmi_out *o, uint64_t *donated, uint64_t *reclaimed)
{
    if (RMI_STATUS(o->x0) != RMI_INCOMPLETE)
        return true;
    uint64_t handle = o->x1, spare[512], spare_sz = 0;
    unsigned nspare = 0;
    for (int step = 0;; step++) {
        if (step == SRO_MAX_STEPS) {
            print("host: stateful RMI operation does not finish\n");
            return false;
        }
        if (RMI_STATUS(o->x0) == RMI_BUSY) {          /* only OP_CONTINUE answers BUSY here */
            *o = rmi_call(RMI_OP_CONTINUE, handle, 0, 0, 0, 0);
            continue;
        }
        if (RMI_STATUS(o->x0) != RMI_INCOMPLETE)
            return true;
        unsigned req = SRO_MEMREQ(o->x0);
        if (req == SRO_DONATE) {
            uint64_t ask = o->x2, sz = ask & 3, cnt = (ask >> 2) & 0x3FFF;
            bool contig = (ask >> 16) & 1, undelegated = (ask >> 17) & 1;
            uint64_t block = GRANULE << (9 * sz), per = block / GRANULE, n = 0;
            if (undelegated || cnt == 0) {
                print("host: cannot donate memory in the requested state\n");
                return false;
            }
            if (contig) {
                uint64_t base = alloc_delegated(cnt * per, cnt * block);
                if (!base)
                    return false;
                list_page[n++] = base | (cnt << 2) | sz;
            } else {
                for (; n < cnt && n < 512; n++) {
                    uint64_t base = nspare && spare_sz == sz ? spare[--nspare] :
                                    alloc_delegated(per, block);
                    if (!base)
                        return false;
                    list_page[n] = base | (1UL << 2) | sz;
                }
            }
            *o = rmi_call(RMI_OP_MEM_DONATE, handle, pa_of(list_page), n, 0, 0);
            if (RMI_STATUS(o->x0) != RMI_INCOMPLETE) {
                rmi_report_failure(RMI_OP_MEM_DONATE, o->x0);
                return false;
            }
            *donated += o->x1 * per;
            /* a partial donation consumes the list from its start: offer the rest again */
            for (uint64_t i = o->x1 / per; !contig && i < n && nspare < 512; i++)
                spare[nspare++] = list_page[i] & ~0xFFFUL;
            spare_sz = sz;
        } else if (req == SRO_RECLAIM) {
            *o = rmi_call(RMI_OP_MEM_RECLAIM, handle, pa_of(list_page), 512, 0, 0);
            if (RMI_STATUS(o->x0) != RMI_INCOMPLETE) {
                rmi_report_failure(RMI_OP_MEM_RECLAIM, o->x0);
                return false;
            }
            for (uint64_t i = 0; i < o->x1 && i < 512; i++) {
                uint64_t desc = list_page[i];
                *reclaimed += ((desc >> 2) & 0x3FF) << (9 * (desc & 3));
            }
        } else {
            *o = rmi_call(RMI_OP_CONTINUE, handle, 0, 0, 0, 0);
        }
    }
}

/* An SRO-capable command, retried while the RMM is BUSY or BLOCKED. */
static struct rmi_out rmi_call_retry(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
                                     uint64_t a4, uint64_t a5)
{
    struct rmi_out o;
    int tries = 0;
    do {
        o = rmi_call(fid, a1, a2, a3, a4, a5);
    } while ((RMI_STATUS(o.x0) == RMI_BUSY || RMI_STATUS(o.x0) == RMI_BLOCKED) &&
             ++tries < 100);
    return o;
}

static bool rtt_create(uint64_t ipa, uint64_t level)
{
    if (realm.nrtts == MAX_RTTS) {
        print("host: too many RTTs\n");
        return false;
    }
    uint64_t rtt = alloc_delegated(1, GRANULE);
    if (!rtt)
        return false;
    struct rmi_out o = rmi_call(RMI_RTT_CREATE, realm.rd, rtt, ipa, level, 0);
    if (!rmi_expect(RMI_RTT_CREATE, o.x0, RMI_SUCCESS))
        return false;
    realm.rtts[realm.nrtts].pa = rtt;
    realm.rtts[realm.nrtts].ipa = ipa;
    realm.rtts[realm.nrtts].level = level;
    realm.nrtts++;
    step_ok(RMI_RTT_CREATE);
    print(" (level ");
    print_dec(level);
    print(" RTT ");
    print_hex(rtt);
    print(" for IPA ");
    print_hex(ipa);
    print(")\n");
    return true;
}

static bool rec_create(unsigned index)
{
    struct host_rec *rec = &realm.recs[index];
    memset(params_page, 0, sizeof(params_page));
    wr64(params_page, RECP_FLAGS, index == 0 ? REC_PARAMS_RUNNABLE : 0);
    wr64(params_page, RECP_MPIDR, index);               /* Aff0 = index (< 16) */
    wr64(params_page, RECP_PC, REALM_IPA_BASE);
    struct rmi_out o = rmi_call_retry(RMI_REC_CREATE, realm.rd, rec->pa, pa_of(params_page), 0,
                                      0);
    uint64_t donated = 0, reclaimed = 0;
    if (!sro_run(&o, &donated, &reclaimed) || !rmi_expect(RMI_REC_CREATE, o.x0, RMI_SUCCESS))
        return false;
    rec->created = true;
    rec->runnable = index == 0;
    realm.nrecs = index + 1;
    step_ok(RMI_REC_CREATE);
    print(" (REC ");
    print_dec(index);
    print(" at ");
    print_hex(rec->pa);
    print(index == 0 ? ", runnable, " : ", started by PSCI CPU_ON, ");
    print_dec(donated);
    print(" aux granules donated)\n");
    return true;
}

__attribute__((unused)) static const struct realm_image *find_image(const char *name)
{
    for (const struct realm_image *img = realm_table; img < realm_table_end; img++)
        if (!strcmp(img->name, name))
            return img;
    return 0;
}

static bool realm_create(const struct realm_image *img)
{
    const uint8_t *h = img->start;
    uint64_t pages = (uint64_t)(img->end - img->start) / GRANULE;
    uint32_t nrecs = *(const uint32_t *)(h + 0x10);
    uint64_t ram = rd64(h, 0x18);

    memset(&realm, 0, sizeof(realm));
    realm.image = img;
    if (*(const uint32_t *)(h + 8) != REALM_MAGIC_LO || *(const uint32_t *)(h + 12) !=
        REALM_MAGIC_HI || !nrecs || nrecs > REALM_MAX_RECS || ram > REALM_RAM_SIZE ||
        pages * GRANULE > REALM_RAM_SIZE) {
        print("host: realm ");
        print(img->name);
        print(": not a realm image this host can run\n");
        return false;
    }
    print("host: creating realm ");
    print(img->name);
    print(" (");
    print_dec(pages);
    print(" measured pages, ");
    print_dec(nrecs);
    print(nrecs == 1 ? " REC)\n" : " RECs)\n");

    /* 1. delegate: the 2 root RTTs (8 KB aligned), RD, the L2 and L3 RTTs come separately
     *    (rtt_create), the DATA granules and the RECs; REC aux granules at donation time */
    uint64_t count = RTT_NUM_START + 1 + pages + nrecs;
    uint64_t base = alloc_delegated(count, RTT_NUM_START * GRANULE);
    if (!base)
        return false;
    realm.root = base;
    realm.rd = base + RTT_NUM_START * GRANULE;
    uint64_t data = realm.rd + GRANULE;
    for (unsigned i = 0; i < nrecs; i++)
        realm.recs[i].pa = data + (pages + i) * GRANULE;
    realm.image_pages = pages;
    step_ok(RMI_GRANULE_RANGE_DELEGATE);
    print(" (");
    print_dec(count);
    print(" granules at ");
    print_hex(base);
    print(": 2 root RTTs, RD, ");
    print_dec(pages);
    print(" DATA, ");
    print_dec(nrecs);
    print(" REC)\n");

    /* 2. REALM_CREATE */
    memset(params_page, 0, sizeof(params_page));
    wr64(params_page, RP_FLAGS0, 0);
    wr64(params_page, RP_S2SZ, S2SZ);
    wr64(params_page, RP_SVE_VL, 0);
    wr64(params_page, RP_NUM_BPS, REALM_NUM_BPS);
    wr64(params_page, RP_NUM_WPS, REALM_NUM_WPS);
    wr64(params_page, RP_PMU_NUM_CTRS, 0);
    params_page[RP_ALGORITHM] = HASH_SHA_256;
    wr64(params_page, RP_NUM_AUX_PLANES, 0);
    static const char rpv[] = "fvp-rme realm ";
    memcpy(params_page + RP_RPV, rpv, sizeof(rpv) - 1);
    memcpy(params_page + RP_RPV + sizeof(rpv) - 1, img->name,
           strlen(img->name) < 64 - sizeof(rpv) ? strlen(img->name) : 64 - sizeof(rpv));
    wr64(params_page, RP_VMID, 1);
    wr64(params_page, RP_RTT_BASE, realm.root);
    wr64(params_page, RP_RTT_LEVEL_START, RTT_LEVEL_START);
    wr64(params_page, RP_RTT_NUM_START, RTT_NUM_START);
    wr64(params_page, RP_FLAGS1, 0);
    struct rmi_out o = rmi_call(RMI_REALM_CREATE, realm.rd, pa_of(params_page), 0, 0, 0);
    if (!rmi_expect(RMI_REALM_CREATE, o.x0, RMI_SUCCESS))
        return false;
    realm.rd_live = true;
    realm.state = REALM_NEW;
    step_ok(RMI_REALM_CREATE);
    print(" (RD ");
    print_hex(realm.rd);
    print(", IPA width 40, RTT start level 1 x 2 at ");
    print_hex(realm.root);
    print(", SHA-256)\n");

    /* 3. the RTTs for the RAM: level 2 (1 GB at 0x8000_0000) and level 3 (its first 2 MB) */
    if (!rtt_create(REALM_IPA_BASE, 2) || !rtt_create(REALM_IPA_BASE, 3))
        return false;

    /* 4. RIPAS RAM for the whole RAM (not measured in RMI 2.0) */
    for (uint64_t ipa = REALM_IPA_BASE; ipa < RAM_TOP;) {
        o = rmi_call(RMI_RTT_INIT_RIPAS, realm.rd, ipa, RAM_TOP, 0, 0);
        if (!rmi_expect(RMI_RTT_INIT_RIPAS, o.x0, RMI_SUCCESS))
            return false;
        if (o.x1 <= ipa) {
            print("host: RMI_RTT_INIT_RIPAS made no progress\n");
            return false;
        }
        ipa = o.x1;
    }
    step_ok(RMI_RTT_INIT_RIPAS);
    print(" (");
    print_ipa_range(REALM_IPA_BASE, RAM_TOP);
    print(" RIPAS RAM)\n");

    /* 5. the image, page by page, measured, from its copy in this host's (NS) memory */
    for (uint64_t i = 0; i < pages; i++) {
        o = rmi_call(RMI_RTT_DATA_MAP_INIT, realm.rd, data + i * GRANULE,
                     REALM_IPA_BASE + i * GRANULE, pa_of(img->start + i * GRANULE), 1);
        if (!rmi_expect(RMI_RTT_DATA_MAP_INIT, o.x0, RMI_SUCCESS))
            return false;
    }
    step_ok(RMI_RTT_DATA_MAP_INIT);
    print(" (");
    print_dec(pages);
    print(" pages at ");
    print_ipa_range(REALM_IPA_BASE, REALM_IPA_BASE + pages * GRANULE);
    print(", content measured)\n");

    /* 6. the RECs, in index order */
    for (unsigned i = 0; i < nrecs; i++)
        if (!rec_create(i))
            return false;

    /* 7. REALM_ACTIVATE */
    o = rmi_call(RMI_REALM_ACTIVATE, realm.rd, 0, 0, 0, 0);
    if (!rmi_expect(RMI_REALM_ACTIVATE, o.x0, RMI_SUCCESS))
        return false;
    realm.state = REALM_ACTIVE;
    step_ok(RMI_REALM_ACTIVATE);
    print("\n");
    return true;
}

/* --- running: REC_ENTER and the exits --------------------------------------------------- */

static int next_runnable(int cur)
{
    for (unsigned k = 1; k <= realm.nrecs; k++) {
        unsigned i = (cur + k) % realm.nrecs;
        if (realm.recs[i].runnable)
            return i;
    }
    return -1;
}

static void flush_line(struct host_rec *rec)
{
    rec->line[rec->len] = 0;
    print("realm: ");
    print(rec->line);
    print("\n");
    rec->len = 0;
}

static void console_write(struct host_rec *rec, char c)
{
    if (c == '\n') {
        flush_line(rec);
    } else if (c != '\r') {
        rec->line[rec->len++] = c;
        if (rec->len == LINE_MAX)
            flush_line(rec);
    }
}

/* A page of realm RAM on first touch: a zeroed granule through RMI_RTT_DATA_MAP. */
static bool map_on_demand(uint64_t ipa)
{
    uint64_t page = ipa & ~(GRANULE - 1);
    uint64_t pa = alloc_delegated(1, GRANULE);
    if (!pa)
        return false;
    for (uint64_t at = page, stalls = 0; at < page + GRANULE;) {
        struct rmi_out o = rmi_call_retry(RMI_RTT_DATA_MAP, realm.rd, at, page + GRANULE, 1,
                                          pa | (1UL << 2));   /* SINGLE: one 4 KB block */
        uint64_t unused = 0;
        if (!sro_run(&o, &unused, &unused) ||                /* an IRQ-yield (section 6.6) */
            !rmi_expect(RMI_RTT_DATA_MAP, o.x0, RMI_SUCCESS))
            return false;
        /* SUCCESS with no progress: stopped for an interrupt before the block; again */
        if (o.x1 < at || o.x1 > page + GRANULE || (o.x1 == at && ++stalls == MAX_STALLS)) {
            print("host: RMI_RTT_DATA_MAP made no progress\n");
            return false;
        }
        at = o.x1;
    }
    realm.exits.mapped++;
    step_ok(RMI_RTT_DATA_MAP);
    print(" (IPA ");
    print_hex(page);
    print(" <- ");
    print_hex(pa);
    print(", on first touch)\n");
    return true;
}

static bool handle_sync(int cur, int *next)
{
    struct host_rec *rec = &realm.recs[cur];
    uint8_t *run = run_pages[cur];
    uint64_t esr = rd64(run, EXIT_ESR), ec = ESR_EC(esr);

    if (ec == EC_DABT_LOWER || ec == EC_IABT_LOWER) {
        uint64_t ipa = (((rd64(run, EXIT_HPFAR) >> 4) & 0xFFFFFFFFFFUL) << 12) |
                       (rd64(run, EXIT_FAR) & 0xFFF);
        if (ipa >= UNPROTECTED) {
            if (ec == EC_DABT_LOWER && (esr & ESR_ISV) &&
                (ipa & ~(GRANULE - 1)) == CONSOLE_IPA) {
                uint64_t offset = ipa & (GRANULE - 1);
                if (esr & ESR_WNR) {
                    if (offset == 0)
                        console_write(rec, (char)rd64(run, EXIT_GPRS));
                } else {
                    wr64(run, ENTER_GPRS, offset == 0x18 ? 0x90 : 0);    /* FR: TXFE|RXFE */
                }
                rec->enter_flags |= REC_ENTER_EMUL_MMIO;
                realm.exits.mmio++;
                return true;
            }
            print("host: realm ");
            print(esr & ESR_WNR ? "write to" : "read of");
            print(" unprotected IPA ");
            print_hex(ipa);
            print(" refused: injecting an SEA\n");
            rec->enter_flags |= REC_ENTER_INJECT_SEA;
            realm.exits.sea++;
            return true;
        }
        if (ipa >= REALM_IPA_BASE && ipa < RAM_TOP)
            return map_on_demand(ipa);
        print("host: realm abort at IPA ");
        print_hex(ipa);
        print(" outside its RAM (ESR ");
        print_hex(esr);
        print(")\n");
        return false;
    }
    if (ec == EC_WFX) {
        realm.exits.wfx++;
        *next = next_runnable(cur);
        return true;
    }
    if (ec == EC_SYSREG) {
        /* Only ICC registers the host's ICH_HCR_EL2 traps come here; none are trapped. */
        if (esr & 1)
            wr64(run, ENTER_GPRS, 0);
        realm.exits.sysreg++;
        return true;
    }
    print("host: unexpected realm exit, ESR ");
    print_hex(esr);
    print("\n");
    return false;
}

static unsigned mpidr_to_index(uint64_t mpidr)
{
    return (mpidr & 0xF) | ((mpidr >> 8) & 0xFF) << 4 | ((mpidr >> 16) & 0xFF) << 12 |
           ((mpidr >> 32) & 0xFF) << 20;
}

static bool handle_psci(int cur, int *next, bool *done)
{
    struct host_rec *rec = &realm.recs[cur];
    uint8_t *run = run_pages[cur];
    uint64_t fid = rd64(run, EXIT_GPRS) & 0xFFFFFFFF;
    realm.exits.psci++;

    if (fid == PSCI_CPU_ON || fid == PSCI_CPU_ON64 || fid == PSCI_AFFINITY ||
        fid == PSCI_AFFINITY64) {
        bool on = fid == PSCI_CPU_ON || fid == PSCI_CPU_ON64;
        unsigned target = mpidr_to_index(rd64(run, EXIT_GPRS + 8));
        if (target >= realm.nrecs) {
            print("host: PSCI request for a REC that does not exist\n");
            return false;
        }
        struct rmi_out o = rmi_call(RMI_PSCI_COMPLETE, rec->pa, realm.recs[target].pa, 0, 0,
                                    0);
        if (!rmi_expect(RMI_PSCI_COMPLETE, o.x0, RMI_SUCCESS))
            return false;
        step_ok(RMI_PSCI_COMPLETE);
        print(on ? " (CPU_ON of REC " : " (AFFINITY_INFO of REC ");
        print_dec(target);
        print(" from REC ");
        print_dec(cur);
        if (on && !realm.recs[target].runnable) {
            realm.recs[target].runnable = true;      /* entered when REC `cur` waits */
            print(": runnable");
        }
        print(")\n");
        return true;
    }
    if (fid == PSCI_CPU_OFF) {
        rec->runnable = false;
        print("host: REC ");
        print_dec(cur);
        print(" is off (PSCI CPU_OFF)\n");
        *next = next_runnable(cur);
        return true;
    }
    if (fid == PSCI_CPU_SUSPEND || fid == PSCI_CPU_SUSPEND64) {
        *next = next_runnable(cur);
        return true;
    }
    if (fid == PSCI_SYSTEM_OFF || fid == PSCI_SYSTEM_RESET) {
        print("host: realm ");
        print(realm.image->name);
        print(fid == PSCI_SYSTEM_OFF ? " is off (PSCI SYSTEM_OFF)\n" :
              " asked for a reset (PSCI SYSTEM_RESET): it is off\n");
        realm.state = REALM_OFF;
        *done = true;
        return true;
    }
    print("host: PSCI exit with FID ");
    print_hex(fid);
    print(", re-entering\n");
    return true;
}

static bool handle_ripas_change(int cur)
{
    struct host_rec *rec = &realm.recs[cur];
    uint8_t *run = run_pages[cur];
    uint64_t base = rd64(run, EXIT_RIPAS_BASE), top = rd64(run, EXIT_RIPAS_TOP);
    unsigned value = run[EXIT_RIPAS_VALUE];
    uint64_t progress = base;
    realm.exits.ripas++;

    while (progress < top) {
        struct rmi_out o = rmi_call(RMI_RTT_SET_RIPAS, realm.rd, rec->pa, progress, top, 0);
        if (RMI_STATUS(o.x0) == RMI_SUCCESS && o.x1 > progress) {
            progress = o.x1;
            continue;
        }
        if (RMI_STATUS(o.x0) == RMI_ERROR_RTT && RMI_INDEX(o.x0) < 3) {
            /* the range starts inside a block: give it a table one level down */
            uint64_t level = RMI_INDEX(o.x0) + 1;
            uint64_t entry = GRANULE << (9 * (3 - (level - 1)));
            if (rtt_create(progress & ~(entry - 1), level))
                continue;
            return false;
        }
        if (RMI_STATUS(o.x0) != RMI_ERROR_RTT) {
            rmi_report_failure(RMI_RTT_SET_RIPAS, o.x0);
            return false;
        }
        break;                      /* an entry whose RIPAS cannot change: reject the rest */
    }
    if (progress < top)
        rec->enter_flags |= REC_ENTER_RIPAS_REJECT;
    step_ok(RMI_RTT_SET_RIPAS);
    print(" (");
    print_ipa_range(base, top);
    print(value ? " to RAM" : " to EMPTY");
    if (progress < top) {
        print(", done up to ");
        print_hex(progress);
        print(", rest rejected)\n");
    } else {
        print(", accepted)\n");
    }
    return true;
}

static void handle_host_call(int cur)
{
    uint8_t *run = run_pages[cur];
    uint32_t imm = *(volatile uint32_t *)(run + EXIT_IMM);
    for (unsigned i = 0; i < 31; i++)
        wr64(run, ENTER_GPRS + 8 * i, rd64(run, EXIT_GPRS + 8 * i));
    uint64_t x0 = rd64(run, EXIT_GPRS), x1 = rd64(run, EXIT_GPRS + 8);
    /* The service: gprs[0] is an SMCCC function id, as KVM treats realm host calls. */
    uint64_t answer = x0 == SMCCC_VERSION ? 0x10001 : (uint64_t)-1;
    wr64(run, ENTER_GPRS, answer);
    realm.exits.host_call++;
    print("host: host call from REC ");
    print_dec(cur);
    print(": imm ");
    print_hex(imm);
    print(", x0 ");
    print_hex(x0);
    print(", x1 ");
    print_hex(x1);
    print("; answered x0 = ");
    print_hex(answer);
    print("\n");
}

/* The GIC virtual interface for the REC about to run (section 9.2): its saved LR0, the
 * virtual timer's PPI made pending while its output is asserted, and ICH_HCR_EL2.En. */
static void vgic_enter(struct host_rec *rec, const uint8_t *run)
{
    uint64_t ctl = rd64(run, EXIT_CNTV_CTL), lr = rec->lr0, state = lr >> 62;
    bool asserted = (ctl & 1) && (ctl & 4) && !(ctl & 2);
    if (asserted && state == 0)
        lr = ICH_LR_PENDING | ICH_LR_GROUP1 | (0xA0UL << 48) | VTIMER_INTID;
    else if (!asserted && state == 1 && (lr & 0xFFFFFFFF) == VTIMER_INTID)
        lr = 0;
    WRITE_SYSREG(S3_4_C12_C12_0, lr);                  /* ICH_LR0_EL2 */
    WRITE_SYSREG(S3_4_C12_C11_0, 1);                   /* ICH_HCR_EL2.En */
    isb();
}

static bool realm_run(void)
{
    if (realm.state != REALM_ACTIVE) {
        print("host: no active realm to run\n");
        return false;
    }
    int cur = realm.recs[0].runnable ? 0 : next_runnable(0);
    for (;;) {
        if (cur < 0) {
            print("host: realm ");
            print(realm.image->name);
            print(": every REC is off\n");
            realm.state = REALM_OFF;
            break;
        }
        struct host_rec *rec = &realm.recs[cur];
        uint8_t *run = run_pages[cur];
        wr64(run, ENTER_FLAGS, rec->enter_flags | REC_ENTER_TRAP_WFI | REC_ENTER_TRAP_WFE);
        rec->enter_flags = 0;
        vgic_enter(rec, run);
        struct rmi_out o = rmi_call(RMI_REC_ENTER, rec->pa, pa_of(run), 0, 0, 0);
        rec->lr0 = READ_SYSREG(S3_4_C12_C12_0);
        if (!rmi_expect(RMI_REC_ENTER, o.x0, RMI_SUCCESS))
            return false;
        if (!rec->entered) {
            rec->entered = true;
            step_ok(RMI_REC_ENTER);
            print(" (REC ");
            print_dec(cur);
            print(" ran)\n");
        }
        if (++realm.exits.total > MAX_EXITS) {
            print("host: realm does not finish (");
            print_dec(MAX_EXITS);
            print(" exits)\n");
            return false;
        }
        int next = cur;
        bool done = false, ok = true;
        switch (rd64(run, EXIT_REASON)) {
        case RMI_EXIT_SYNC:
            ok = handle_sync(cur, &next);
            break;
        case RMI_EXIT_IRQ:
        case RMI_EXIT_FIQ:
            realm.exits.irq++;
            next = next_runnable(cur);
            break;
        case RMI_EXIT_PSCI:
            ok = handle_psci(cur, &next, &done);
            break;
        case RMI_EXIT_RIPAS_CHANGE:
            ok = handle_ripas_change(cur);
            break;
        case RMI_EXIT_HOST_CALL:
            handle_host_call(cur);
            break;
        default:
            print("host: unexpected exit reason ");
            print_dec(rd64(run, EXIT_REASON));
            print(" (ESR ");
            print_hex(rd64(run, EXIT_ESR));
            print(")\n");
            ok = false;
        }
        if (!ok)
            return false;
        if (done)
            break;
        cur = next;
    }
    for (unsigned i = 0; i < realm.nrecs; i++)
        if (realm.recs[i].len)
            flush_line(&realm.recs[i]);
    struct exit_counts *e = &realm.exits;
    print("host: realm ");
    print(realm.image->name);
    print(" ran: ");
    print_dec(e->total);
    print(" exits (");
    print_dec(e->mmio);
    print(" console MMIO, ");
    print_dec(e->mapped);
    print(" pages mapped, ");
    print_dec(e->psci);
    print(" PSCI, ");
    print_dec(e->ripas);
    print(" RIPAS, ");
    print_dec(e->host_call);
    print(" host calls, ");
    print_dec(e->sea);
    print(" SEAs injected, ");
    print_dec(e->irq);
    print(" IRQ, ");
    print_dec(e->wfx);
    print(" WFx)\n");
    return true;
}

/* --- destroying ----------------------------------------------------------------------------- */

static bool rec_destroy(unsigned index)
{
    struct host_rec *rec = &realm.recs[index];
    struct rmi_out o = rmi_call_retry(RMI_REC_DESTROY, rec->pa, 0, 0, 0, 0);
    uint64_t donated = 0, reclaimed = 0;
    if (!sro_run(&o, &donated, &reclaimed) || !rmi_expect(RMI_REC_DESTROY, o.x0, RMI_SUCCESS))
        return false;
    rec->created = false;
    step_ok(RMI_REC_DESTROY);
    print(" (REC ");
    print_dec(index);
    print(", ");
    print_dec(reclaimed);
    print(" aux granules reclaimed)\n");
    return true;
}

static bool realm_destroy(void)
{
    if (realm.rd_live) {
        struct rmi_out o;
        if (!realm.terminated) {
            o = rmi_call(RMI_REALM_TERMINATE, realm.rd, 0, 0, 0, 0);
            if (!rmi_expect(RMI_REALM_TERMINATE, o.x0, RMI_SUCCESS))
                return false;
            realm.terminated = true;
            step_ok(RMI_REALM_TERMINATE);
            print("\n");
        }
        if (!realm.data_unmapped) {
            uint64_t freed = 0;
            for (uint64_t ipa = REALM_IPA_BASE, stalls = 0; ipa < RAM_TOP;) {
                o = rmi_call_retry(RMI_RTT_DATA_UNMAP, realm.rd, ipa, RAM_TOP, 1, 0); /* SINGLE */
                uint64_t unused = 0;
                if (!sro_run(&o, &unused, &unused) ||
                    !rmi_expect(RMI_RTT_DATA_UNMAP, o.x0, RMI_SUCCESS))
                    return false;
                if (o.x2)
                    freed += ((o.x2 >> 2) & 0x3FF) << (9 * (o.x2 & 3));
                if (o.x1 < ipa || o.x1 > RAM_TOP || (o.x1 == ipa && ++stalls == MAX_STALLS)) {
                    print("host: RMI_RTT_DATA_UNMAP made no progress\n");
                    return false;
                }
                ipa = o.x1;
            }
            realm.data_unmapped = true;
            step_ok(RMI_RTT_DATA_UNMAP);
            print(" (");
            print_ipa_range(REALM_IPA_BASE, RAM_TOP);
            print(": ");
            print_dec(freed);
            print(" DATA granules)\n");
        }
        for (int i = REALM_MAX_RECS - 1; i >= 0; i--)
            if (realm.recs[i].created && !rec_destroy(i))
                return false;
        while (realm.nrtts) {                       /* the deepest (last created) first */
            unsigned i = realm.nrtts - 1;
            o = rmi_call(RMI_RTT_DESTROY, realm.rd, realm.rtts[i].ipa, realm.rtts[i].level,
                         0, 0);
            if (!rmi_expect(RMI_RTT_DESTROY, o.x0, RMI_SUCCESS))
                return false;
            if (o.x1 != realm.rtts[i].pa) {
                print("host: RMI_RTT_DESTROY returned another RTT: ");
                print_hex(o.x1);
                print("\n");
                return false;
            }
            realm.nrtts--;
            step_ok(RMI_RTT_DESTROY);
            print(" (level ");
            print_dec(realm.rtts[i].level);
            print(" RTT ");
            print_hex(realm.rtts[i].pa);
            print(")\n");
        }
        o = rmi_call(RMI_REALM_DESTROY, realm.rd, 0, 0, 0, 0);
        if (!rmi_expect(RMI_REALM_DESTROY, o.x0, RMI_SUCCESS))
            return false;
        realm.rd_live = false;
        step_ok(RMI_REALM_DESTROY);
        print("\n");
    }
    if (!undelegate_all())
        return false;
    if (realm.image) {
        print("host: realm ");
        print(realm.image->name);
        print(" destroyed\n");
    }
    realm.state = REALM_NONE;
    realm.image = 0;
    return true;
}

/* --- bringing up the RMM (section 7.2) --------------------------------------------------- */

static void print_version(uint64_t v)
{
    print_dec(v >> 16);
    print(".");
    print_dec(v & 0xFFFF);
}

static bool rmm_boot(void)
{
    struct rmi_out o = rmi_call(RMI_VERSION, RMI_ABI_2_0, 0, 0, 0, 0);
    if (!rmi_expect(RMI_VERSION, o.x0, RMI_SUCCESS))
        return false;
    step_ok(RMI_VERSION);
    print(" (requested 2.0; the RMM implements ");
    print_version(o.x1);
    print(" to ");
    print_version(o.x2);
    print(")\n");

    uint64_t feat[4];
    for (unsigned i = 0; i < 4; i++) {
        o = rmi_call(RMI_FEATURES, i, 0, 0, 0, 0);
        if (!rmi_expect(RMI_FEATURES, o.x0, RMI_SUCCESS))
            return false;
        feat[i] = o.x1;
    }
    feat0 = feat[0];
    feat1 = feat[1];
    uint64_t s2sz = feat0 & 0xFF, bps = (feat0 >> 14) & 0x3F, wps = (feat0 >> 20) & 0x3F;
    step_ok(RMI_FEATURES);
    print(" (register 0 ");
    print_hex(feat0);
    print(": S2SZ ");
    print_dec(s2sz);
    print(", NUM_BPS ");
    print_dec(bps);
    print(", NUM_WPS ");
    print_dec(wps);
    print("; register 1 ");
    print_hex(feat1);
    print("; registers 2, 3 ");
    print_hex(feat[2]);
    print(", ");
    print_hex(feat[3]);
    print(")\n");
    if (s2sz < S2SZ || bps < REALM_NUM_BPS || wps < REALM_NUM_WPS || !(feat1 & 1) ||
        !(feat1 & (1 << 3))) {
        print("host: this RMM cannot hold this host's realms (needs S2SZ >= 40, a "
              "breakpoint and a watchpoint, 4 KB granules, SHA-256)\n");
        return false;
    }

    memset(config_page, 0xA5, sizeof(config_page));
    o = rmi_call(RMI_RMM_CONFIG_GET, pa_of(config_page), 0, 0, 0, 0);
    if (!rmi_expect(RMI_RMM_CONFIG_GET, o.x0, RMI_SUCCESS))
        return false;
    step_ok(RMI_RMM_CONFIG_GET);
    print(" (tracking region size ");
    print_dec(rd64(config_page, 0));
    print(", granule size ");
    print_dec(rd64(config_page, 8));
    print(")\n");

    memset(config_page, 0, sizeof(config_page));   /* 1 GB tracking regions, 4 KB granules */
    o = rmi_call(RMI_RMM_CONFIG_SET, pa_of(config_page), 0, 0, 0, 0);
    if (!rmi_expect(RMI_RMM_CONFIG_SET, o.x0, RMI_SUCCESS))
        return false;
    step_ok(RMI_RMM_CONFIG_SET);
    print(" (1 GB tracking regions, 4 KB granules)\n");

    o = rmi_call(RMI_RMM_ACTIVATE, 0, 0, 0, 0, 0);
    if (!rmi_expect(RMI_RMM_ACTIVATE, o.x0, RMI_SUCCESS))
        return false;
    step_ok(RMI_RMM_ACTIVATE);
    print("\n");

    /* the 1 GB region holding the granule pool must be tracked, conventional memory */
    uint64_t region = pa_of(__pool_start) & ~((1UL << 30) - 1);
    o = rmi_call(RMI_GRANULE_TRACKING_GET, region, region + (1UL << 30), 0, 0, 0);
    if (!rmi_expect(RMI_GRANULE_TRACKING_GET, o.x0, RMI_SUCCESS))
        return false;
    if (o.x1 != 0 || o.x2 != 2) {
        print("host: RMI_GRANULE_TRACKING_GET: the pool is not FINE-tracked conventional "
              "memory (category ");
        print_dec(o.x1);
        print(", state ");
        print_dec(o.x2);
        print(")\n");
        return false;
    }
    step_ok(RMI_GRANULE_TRACKING_GET);
    print(" (1 GB at ");
    print_hex(region);
    print(": conventional, fine)\n");

    o = rmi_call(RMI_GPT_L1_CREATE, region, 0, 0, 0, 0);
    if (o.x0 != RMI_SUCCESS && o.x0 != RMI_ERROR_GPT) {
        rmi_report_failure(RMI_GPT_L1_CREATE, o.x0);
        return false;
    }
    step_ok(RMI_GPT_L1_CREATE);
    print(o.x0 == RMI_ERROR_GPT ? " (level 1 GPT already exists)\n" : "\n");
    rmm_ready = true;
    return true;
}

static void banner(void)
{
    print("host: fvp-rme CCA host at NS-EL");
    console_putc('0' + (READ_SYSREG(CurrentEL) >> 2));
#ifdef INTERACTIVE
    print(", interactive; realms:");
#else
    print("; realms:");
#endif
    for (const struct realm_image *img = realm_table; img < realm_table_end; img++) {
        print(" ");
        print(img->name);
    }
    print("\n");
}

static void platform_init(void)
{
    mmu_init();
    gic_init();
    timer_init(READ_SYSREG(cntfrq_el0) / 1000);    /* 1 ms tick */
}

#ifndef INTERACTIVE

static void fail(void) __attribute__((noreturn));
static void fail(void)
{
    print("host: FAILED\n");
    power_off();
}

void main(uint64_t dtb)
{
    (void)dtb;
    platform_init();
    pool_next = pa_of(__pool_start);
    banner();
    if (!rmm_boot())
        fail();
    for (const struct realm_image *img = realm_table; img < realm_table_end; img++)
        if (!realm_create(img) || !realm_run() || !realm_destroy())
            fail();
    print("host: all done\n");
    power_off();
}

#else   /* INTERACTIVE */

static void print_status(void)
{
    print("host: RMM ");
    print(rmm_ready ? "active" : "not available");
    print(", ");
    print_dec(delegated_granules);
    print(" granules delegated\n");
    if (!realm.image) {
        print("host: no realm\n");
        return;
    }
    print("host: realm ");
    print(realm.image->name);
    print(": ");
    print(state_names[realm.state]);
    print(", RD ");
    print_hex(realm.rd);
    print(", ");
    print_dec(realm.nrecs);
    print(" RECs");
    for (unsigned i = 0; i < realm.nrecs; i++) {
        print(i ? ", REC " : " (REC ");
        print_dec(i);
        print(realm.recs[i].runnable ? " runnable" : " not runnable");
    }
    print(realm.nrecs ? "), " : ", ");
    print_dec(realm.exits.total);
    print(" exits\n");
}

static void help(void)
{
    print("commands:\n"
          "  create NAME   create realm NAME (one realm at a time)\n"
          "  run           run the realm until it powers off\n"
          "  destroy       destroy the realm and undelegate its granules\n"
          "  attest        create, run and destroy the attest realm\n"
          "  status        the RMM, the realm, its RECs\n"
          "  help          this list\n"
          "  poweroff      destroy the realm (if any) and power the machine off\n"
          "realms:");
    for (const struct realm_image *img = realm_table; img < realm_table_end; img++) {
        print(" ");
        print(img->name);
    }
    print("\n");
}

static unsigned read_line(char *buf, unsigned size)
{
    static bool after_cr;
    unsigned n = 0;
    for (;;) {
        int c = uart_getc();
        if (c == '\n' && after_cr) {
            after_cr = false;
            continue;
        }
        after_cr = c == '\r';
        if (c == '\r' || c == '\n') {
            console_putc('\n');
            buf[n] = 0;
            return n;
        }
        if ((c == 0x7F || c == 0x08) && n) {
            n--;
            print("\b \b");
        } else if (c >= 0x20 && c < 0x7F && n + 1 < size) {
            buf[n++] = (char)c;
            console_putc((char)c);
        }
    }
}

static bool need_rmm(void)
{
    if (!rmm_ready)
        print("host: the RMM did not answer at boot: no realms\n");
    return rmm_ready;
}

static bool create(const char *name)
{
    if (!need_rmm())
        return false;
    if (realm.image) {
        print("host: realm ");
        print(realm.image->name);
        print(" exists: destroy it first\n");
        return false;
    }
    const struct realm_image *img = find_image(name);
    if (!img) {
        print("host: no realm called '");
        print(name);
        print("' (help lists them)\n");
        return false;
    }
    if (realm_create(img))
        return true;
    print("host: create failed (destroy cleans up)\n");
    return false;
}

void main(uint64_t dtb)
{
    char line[64];
    (void)dtb;
    platform_init();
    pool_next = pa_of(__pool_start);
    banner();
    if (!rmm_boot())
        print("host: the RMM did not answer: realm commands are unavailable\n");
    for (;;) {
        print("fvp-rme> ");
        read_line(line, sizeof(line));
        char *cmd = line, *arg = line;
        while (*cmd == ' ')
            cmd++;
        for (arg = cmd; *arg && *arg != ' '; arg++)
            ;
        if (*arg)
            *arg++ = 0;
        while (*arg == ' ')
            arg++;
        if (!*cmd) {
            continue;
        } else if (!strcmp(cmd, "help")) {
            help();
        } else if (!strcmp(cmd, "status")) {
            print_status();
        } else if (!strcmp(cmd, "create")) {
            create(arg);
        } else if (!strcmp(cmd, "run")) {
            if (need_rmm() && !realm_run())
                print("host: run failed\n");
        } else if (!strcmp(cmd, "destroy")) {
            if (!need_rmm())
                continue;
            if (!realm.image && !nranges)
                print("host: no realm\n");
            else if (!realm_destroy())
                print("host: destroy failed\n");
        } else if (!strcmp(cmd, "attest")) {
            if (create("attest") && (!realm_run() || !realm_destroy()))
                print("host: attest failed\n");
        } else if (!strcmp(cmd, "poweroff")) {
            if (rmm_ready && (realm.image || nranges) && !realm_destroy())
                print("host: destroy failed\n");
            print("host: powering off\n");
            power_off();
        } else {
            print("host: unknown command '");
            print(cmd);
            print("' (help lists the commands)\n");
        }
    }
}

#endif
