/* RMI calls and their status checks. */

#include "rmi.h"

struct rmi_out rmi_call(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                        uint64_t a5)
{
    struct smc_regs r;
    memset(&r, 0, sizeof(r));
    r.x[0] = fid;
    r.x[1] = a1;
    r.x[2] = a2;
    r.x[3] = a3;
    r.x[4] = a4;
    r.x[5] = a5;
    smc_call(&r);
    return (struct rmi_out){r.x[0], r.x[1], r.x[2], r.x[3], r.x[4]};
}

static const struct { uint64_t fid; const char *name; } names[] = {
    {RMI_VERSION, "RMI_VERSION"},
    {RMI_RTT_DATA_MAP_INIT, "RMI_RTT_DATA_MAP_INIT"},
    {RMI_REALM_ACTIVATE, "RMI_REALM_ACTIVATE"},
    {RMI_REALM_CREATE, "RMI_REALM_CREATE"},
    {RMI_REALM_DESTROY, "RMI_REALM_DESTROY"},
    {RMI_REC_CREATE, "RMI_REC_CREATE"},
    {RMI_REC_DESTROY, "RMI_REC_DESTROY"},
    {RMI_REC_ENTER, "RMI_REC_ENTER"},
    {RMI_RTT_CREATE, "RMI_RTT_CREATE"},
    {RMI_RTT_DESTROY, "RMI_RTT_DESTROY"},
    {RMI_RTT_READ_ENTRY, "RMI_RTT_READ_ENTRY"},
    {RMI_PSCI_COMPLETE, "RMI_PSCI_COMPLETE"},
    {RMI_FEATURES, "RMI_FEATURES"},
    {RMI_RTT_INIT_RIPAS, "RMI_RTT_INIT_RIPAS"},
    {RMI_RTT_SET_RIPAS, "RMI_RTT_SET_RIPAS"},
    {RMI_RMM_CONFIG_SET, "RMI_RMM_CONFIG_SET"},
    {RMI_GRANULE_TRACKING_GET, "RMI_GRANULE_TRACKING_GET"},
    {RMI_RMM_CONFIG_GET, "RMI_RMM_CONFIG_GET"},
    {RMI_GRANULE_RANGE_DELEGATE, "RMI_GRANULE_RANGE_DELEGATE"},
    {RMI_GRANULE_RANGE_UNDELEGATE, "RMI_GRANULE_RANGE_UNDELEGATE"},
    {RMI_GPT_L1_CREATE, "RMI_GPT_L1_CREATE"},
    {RMI_RTT_DATA_MAP, "RMI_RTT_DATA_MAP"},
    {RMI_RTT_DATA_UNMAP, "RMI_RTT_DATA_UNMAP"},
    {RMI_REALM_TERMINATE, "RMI_REALM_TERMINATE"},
    {RMI_RMM_ACTIVATE, "RMI_RMM_ACTIVATE"},
    {RMI_OP_CONTINUE, "RMI_OP_CONTINUE"},
    {RMI_OP_MEM_DONATE, "RMI_OP_MEM_DONATE"},
    {RMI_OP_MEM_RECLAIM, "RMI_OP_MEM_RECLAIM"},
};

const char *rmi_name(uint64_t fid)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].fid == fid)
            return names[i].name;
    return "RMI_?";
}

void rmi_report_failure(uint64_t fid, uint64_t x0)
{
    print("host: ");
    print(rmi_name(fid));
    print(" failed: status ");
    if (x0 == SMC_UNKNOWN) {
        print("-1 index 0 (SMC_UNKNOWN: no RMM answers RMI)\n");
        return;
    }
    print_dec(RMI_STATUS(x0));
    print(" index ");
    print_dec(RMI_INDEX(x0));
    print("\n");
}

bool rmi_expect(uint64_t fid, uint64_t x0, uint64_t expected)
{
    if (x0 == expected)
        return true;
    rmi_report_failure(fid, x0);
    return false;
}

void step_ok(uint64_t fid)
{
    print("host: ");
    print(rmi_name(fid));
    print(" ok");
}
