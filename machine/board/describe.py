"""The machine definition as a Markdown document (docs/machine.md is generated from it, and
a test keeps the two equal): memory regions, carve-outs and devices with their interrupts."""


def _size(n):
    for unit, shift in (("GB", 30), ("MB", 20), ("KB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n:#x}"


def markdown(definition):
    lines = [f"# Machine: {definition.name}", "", definition.description + ".", "",
             "Generated from the machine definition (machine/board/fvp.py) by "
             "`python3 -m machine.board.describe`.", "",
             "## Memory", "", "| Region | Base | Size | Kind | GPT |", "|---|---|---|---|---|"]
    for region in definition.memory:
        lines.append(f"| {region.name} | {region.base:#x} | {_size(region.size)} | "
                     f"{region.kind} | {region.gpi} |")
        for offset, size, gpi, name in region.carve_outs:
            lines.append(f"| &nbsp;&nbsp;{name} | {region.base + offset:#x} | {_size(size)} | "
                         f"carve-out | {gpi} |")
    lines += ["", "## Devices", "", "| Device | Model | Base | Size | Interrupt | Device tree |",
              "|---|---|---|---|---|---|"]
    for dev in definition.devices:
        irq = f"SPI {dev.spi} (INTID {32 + dev.spi})" if dev.spi is not None else ""
        dt = ", ".join(dev.dt["compatible"]) if dev.dt else "not described"
        lines.append(f"| {dev.name} | {dev.model} | {dev.base:#x} | {_size(dev.size)} | {irq} "
                     f"| {dt} |")
    secure, ns_phys, virt, hyp = definition.timer_ppis
    lines += ["", "## Interrupts and CPUs", "",
              f"- up to {definition.max_cpus} CPUs; MPIDR_EL1 of CPU n: "
              + ", ".join(f"{definition.mpidr(i):#x}" for i in range(definition.max_cpus)),
              f"- GICv3: distributor {definition.gic['gicd']:#x}, redistributors "
              f"{definition.gic['gicr']:#x} (stride {definition.gic['gicr_stride']:#x}), "
              f"{definition.gic['spis']} SPIs, maintenance interrupt PPI "
              f"{definition.gic['maintenance_ppi']}",
              f"- generic timer PPIs: secure physical {secure}, non-secure physical {ns_phys}, "
              f"virtual {virt}, hypervisor physical {hyp}",
              "", "## Load addresses", ""]
    lines += [f"- {name}: {address:#x}" for name, address in definition.load.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from .fvp import FVP_BASE_REVC

    print(markdown(FVP_BASE_REVC), end="")
