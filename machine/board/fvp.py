"""The Arm FVP Base RevC-2xAEMvA with RME, as data (facts: shared/reference/
fvp-base-revc-rme.md sections 1-3, from TF-A's FVP platform and the FVP device trees)."""

from .definition import DeviceRegion, MachineDefinition, MemoryRegion

MB = 1 << 20
GB = 1 << 30

CLK24 = "clk24mhz"          # the fixed 24 MHz clock the PrimeCell devices reference


def _uart(n):
    base = 0x1C09_0000 + n * 0x1_0000
    return DeviceRegion(f"uart{n}", "pl011", base, 0x1000, spi=5 + n,
                        dt={"compatible": ["arm,pl011", "arm,primecell"],
                            "clocks": [CLK24, CLK24], "clock-names": ["uartclk", "apb_pclk"]})


def fvp_mpidr(cpu):
    """MPIDR_EL1: 2 clusters x 4 cores, MT=1 with shifted affinities (section 3.1)."""
    return 0x8100_0000 | ((cpu // 4) << 16) | ((cpu % 4) << 8)


# DRAM1's top 64 MB with ENABLE_RMM=1 (section 1.2): offsets within DRAM1
DRAM1_CARVE_OUTS = (
    (0x7C00_0000, 0x01C0_0000, "secure", "secure DRAM (AP TZC)"),
    (0x7DC0_0000, 0x01FF_F000, "realm", "RMM"),
    (0x7FBF_F000, 0x0000_1000, "realm", "EL3-RMM shared buffer"),
    (0x7FC0_0000, 0x0040_0000, "root", "EL3 runtime data and GPT L1 tables"),
)

FVP_BASE_REVC = MachineDefinition(
    name="fvp-base-revc",
    description="Arm FVP Base RevC-2xAEMvA with RME: GICv3, generic timers, PL011 UARTs",
    memory=(
        MemoryRegion("trusted-sram", 0x0400_0000, 0x6_0000, kind="sram", gpi="any"),
        MemoryRegion("dram1", 0x8000_0000, 2 * GB, carve_outs=DRAM1_CARVE_OUTS),
        MemoryRegion("dram2", 0x8_8000_0000, 30 * GB),
    ),
    devices=(
        DeviceRegion("v2m-sysregs", "v2m-sysregs", 0x1C01_0000, 0x1000),
        _uart(0), _uart(1), _uart(2), _uart(3),
        DeviceRegion("watchdog", "sp805", 0x1C0F_0000, 0x1000, spi=0,
                     dt={"compatible": ["arm,sp805", "arm,primecell"],
                         "clocks": [CLK24, CLK24], "clock-names": ["wdog_clk", "apb_pclk"]}),
        DeviceRegion("rtc", "pl031", 0x1C17_0000, 0x1000, spi=4,
                     dt={"compatible": ["arm,pl031", "arm,primecell"],
                         "clocks": [CLK24], "clock-names": ["apb_pclk"]}),
        DeviceRegion("cnt-control", "cnt-control", 0x2A43_0000, 0x1_0000),
        DeviceRegion("cnt-read", "cnt-read", 0x2A80_0000, 0x1_0000),
        DeviceRegion("cnt-ctl", "cnt-ctl", 0x2A81_0000, 0x1_0000),
        DeviceRegion("gicd", "gicd", 0x2F00_0000, 0x1_0000),
        DeviceRegion("gicr", "gicr", 0x2F10_0000, 0x20_0000),
    ),
    max_cpus=8,
    mpidr=fvp_mpidr,
    dt_root={"model": "FVP Base RevC", "compatible": ["arm,fvp-base-revc", "arm,vexpress"]},
    timer_ppis=(13, 14, 11, 10),
    gic={"gicd": 0x2F00_0000, "gicr": 0x2F10_0000, "gicr_stride": 0x2_0000,
         "maintenance_ppi": 9, "spis": 224},
    load={"dtb": 0x8200_0000, "kernel": 0x8400_0000, "module": 0x8800_0000,
          "initrd": 0x9000_0000},
)


def definition():
    """Entry point of the `fvp_rme.machines` group."""
    return FVP_BASE_REVC
