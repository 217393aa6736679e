/* RMI v2.0 as the host calls it (shared/reference/rmi-v2-host-abi.md): FIDs, status codes,
 * structure offsets, and checked wrappers that print "host: <COMMAND> failed: status N
 * index M" when a call does not answer what the lifecycle expects. */
#ifndef HOST_RMI_H
#define HOST_RMI_H

#include "../common/arch.h"

#define RMI_VERSION                 0xC4000150UL
#define RMI_RTT_DATA_MAP_INIT       0xC4000153UL
#define RMI_REALM_ACTIVATE          0xC4000157UL
#define RMI_REALM_CREATE            0xC4000158UL
#define RMI_REALM_DESTROY           0xC4000159UL
#define RMI_REC_CREATE              0xC400015AUL
#define RMI_REC_DESTROY             0xC400015BUL
#define RMI_REC_ENTER               0xC400015CUL
#define RMI_RTT_CREATE              0xC400015DUL
#define RMI_RTT_DESTROY             0xC400015EUL
#define RMI_RTT_READ_ENTRY          0xC4000161UL
#define RMI_PSCI_COMPLETE           0xC4000164UL
#define RMI_FEATURES                0xC4000165UL
#define RMI_RTT_INIT_RIPAS          0xC4000168UL
#define RMI_RTT_SET_RIPAS           0xC4000169UL
#define RMI_RMM_CONFIG_SET          0xC400016EUL
#define RMI_GRANULE_TRACKING_GET    0xC40001E1UL
#define RMI_RMM_CONFIG_GET          0xC40001ECUL
#define RMI_GRANULE_RANGE_DELEGATE  0xC40001F1UL
#define RMI_GRANULE_RANGE_UNDELEGATE 0xC40001F2UL
#define RMI_GPT_L1_CREATE           0xC40001F3UL
#define RMI_RTT_DATA_MAP            0xC40001F5UL
#define RMI_RTT_DATA_UNMAP          0xC40001F6UL
#define RMI_REALM_TERMINATE         0xC4000201UL
#define RMI_RMM_ACTIVATE            0xC4000202UL
#define RMI_OP_CONTINUE             0xC4000203UL
#define RMI_OP_MEM_DONATE           0xC4000208UL
#define RMI_OP_MEM_RECLAIM          0xC4000209UL

#define RMI_ABI_2_0                 0x20000UL
#define SMC_UNKNOWN                 0xFFFFFFFFFFFFFFFFUL

/* RmiStatusCode (X0 bits[7:0]); the index is bits[15:8] */
#define RMI_SUCCESS         0
#define RMI_ERROR_INPUT     1
#define RMI_ERROR_REALM     2
#define RMI_ERROR_REC       3
#define RMI_ERROR_RTT       4
#define RMI_BUSY            10
#define RMI_ERROR_GLOBAL    11
#define RMI_INCOMPLETE      13
#define RMI_BLOCKED         14
#define RMI_ERROR_GPT       15
#define RMI_STATUS(x0)      ((x0) & 0xFF)
#define RMI_INDEX(x0)       (((x0) >> 8) & 0xFF)
#define RMI_ERROR_RTT_AT(level) (RMI_ERROR_RTT | ((uint64_t)(level) << 8))

/* RMI_INCOMPLETE's RmiOpMemReq (X0 bits[9:8]) */
#define SRO_MEMREQ(x0)      (((x0) >> 8) & 3)
#define SRO_NONE            0
#define SRO_DONATE          1
#define SRO_RECLAIM         2

/* RmiRealmParams */
#define RP_FLAGS0           0x000
#define RP_S2SZ             0x008
#define RP_SVE_VL           0x010
#define RP_NUM_BPS          0x018
#define RP_NUM_WPS          0x020
#define RP_PMU_NUM_CTRS     0x028
#define RP_ALGORITHM        0x030
#define RP_NUM_AUX_PLANES   0x038
#define RP_RPV              0x400
#define RP_VMID             0x800       /* RMI 1.0's vmid: ignored by RMI 2.0 (the RMM picks) */
#define RP_RTT_BASE         0x808
#define RP_RTT_LEVEL_START  0x810
#define RP_RTT_NUM_START    0x818
#define RP_FLAGS1           0x820

/* RmiRecParams */
#define RECP_FLAGS          0x000
#define RECP_MPIDR          0x100
#define RECP_PC             0x200
#define RECP_GPRS           0x300
#define REC_PARAMS_RUNNABLE 1UL

/* RmiRecRun: RmiRecEnter at 0x000, RmiRecExit at 0x800 */
#define ENTER_FLAGS         0x000
#define ENTER_GPRS          0x200
#define EXIT_REASON         0x800
#define EXIT_ESR            0x900
#define EXIT_FAR            0x908
#define EXIT_HPFAR          0x910
#define EXIT_GPRS           0xA00
#define EXIT_CNTP_CTL       0xC00
#define EXIT_CNTV_CTL       0xC10
#define EXIT_RIPAS_BASE     0xD00
#define EXIT_RIPAS_TOP      0xD08
#define EXIT_RIPAS_VALUE    0xD10
#define EXIT_IMM            0xE00

#define REC_ENTER_EMUL_MMIO     (1UL << 0)
#define REC_ENTER_INJECT_SEA    (1UL << 1)
#define REC_ENTER_TRAP_WFI      (1UL << 2)
#define REC_ENTER_TRAP_WFE      (1UL << 3)
#define REC_ENTER_RIPAS_REJECT  (1UL << 4)

#define RMI_EXIT_SYNC           0
#define RMI_EXIT_IRQ            1
#define RMI_EXIT_FIQ            2
#define RMI_EXIT_PSCI           3
#define RMI_EXIT_RIPAS_CHANGE   4
#define RMI_EXIT_HOST_CALL      5
#define RMI_EXIT_SERROR         6

struct rmi_out {
    uint64_t x0, x1, x2, x3, x4;
};

/* One RMI call: X0 = fid, X1..X6 = args. */
struct rmi_out rmi_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint64_t a5);

/* The command's name (for messages). */
const char *rmi_name(uint64_t fid);

/* Prints "host: <COMMAND> failed: status N index M" and returns false unless x0 == expected. */
bool rmi_expect(uint64_t fid, uint64_t x0, uint64_t expected);
void rmi_report_failure(uint64_t fid, uint64_t x0);

/* Prints "host: <COMMAND> ok" (no newline: the caller adds the details). */
void step_ok(uint64_t fid);

#endif
