"""The device tree generated from the machine definition (the nodes of fact sheet section 8),
for Linux and for Xen (its /chosen multiboot modules)."""

import fdt

from .fvp import CLK24

PHANDLE_GIC, PHANDLE_CLK24 = 1, 2
PHANDLES = {CLK24: PHANDLE_CLK24}
LEVEL_HIGH, LEVEL_LOW = 4, 8
GIC_SPI, GIC_PPI = 0, 1


def _cells64(*values):
    """Each 64-bit value as two 32-bit cells."""
    words = []
    for v in values:
        words += [(v >> 32) & 0xFFFF_FFFF, v & 0xFFFF_FFFF]
    return words


def _node(name, *props):
    node = fdt.Node(name)
    for prop in props:
        node.append(prop)
    return node


def _strings(name, value):
    values = [value] if isinstance(value, str) else list(value)
    return fdt.PropStrings(name, *values)


def _words(name, *values):
    return fdt.PropWords(name, *values)


class BootInfo:
    """What the device tree tells the booted software beyond the hardware: command lines,
    the initrd and Xen's modules (each (address, size, bootargs))."""

    def __init__(self, bootargs=None, initrd=None, modules=()):
        self.bootargs = bootargs
        self.initrd = initrd            # (address, size) or None
        self.modules = list(modules)


def build(machine, boot=None):
    """The flattened device tree (bytes) describing `machine`."""
    boot = boot or BootInfo()
    definition = machine.definition
    tree = fdt.FDT()
    root = tree.root
    root.append(_strings("model", definition.dt_root["model"]))
    root.append(_strings("compatible", definition.dt_root["compatible"]))
    root.append(_words("interrupt-parent", PHANDLE_GIC))
    root.append(_words("#address-cells", 2))
    root.append(_words("#size-cells", 2))
    root.append(_chosen(machine, boot))
    root.append(_node("aliases", _strings("serial0", f"/uart@{definition.device('uart0').base:x}")))
    root.append(_node("psci", _strings("compatible", ["arm,psci-1.0", "arm,psci-0.2"]),
                      _strings("method", "smc")))
    root.append(_cpus(machine))
    root.append(_node(f"memory@{machine.ns_memory[0][0]:x}", _strings("device_type", "memory"),
                      _words("reg", *_cells64(*[v for r in machine.ns_memory for v in r]))))
    root.append(_gic(machine))
    root.append(_timer(definition))
    root.append(_node(CLK24, _strings("compatible", "fixed-clock"), _words("#clock-cells", 0),
                      _words("clock-frequency", 24_000_000),
                      _strings("clock-output-names", "v2m:clk24mhz"),
                      _words("phandle", PHANDLE_CLK24)))
    for region in definition.devices:
        if region.dt is not None:
            root.append(_device(region))
    return tree.to_dtb(version=17)


def _chosen(machine, boot):
    chosen = _node("chosen", _strings("stdout-path", "serial0:115200n8"))
    if boot.modules:
        # Xen: its own command line, and the modules with theirs (Xen docs booting.txt)
        chosen.append(_words("#address-cells", 2))
        chosen.append(_words("#size-cells", 2))
        if boot.bootargs:
            chosen.append(_strings("xen,xen-bootargs", boot.bootargs))
        kinds = ["multiboot,kernel", "multiboot,ramdisk"]
        for i, (addr, size, args) in enumerate(boot.modules):
            compatible = [kinds[i]] if i < len(kinds) else []
            module = _node(f"module@{addr:x}",
                           _strings("compatible", compatible + ["multiboot,module"]),
                           _words("reg", *_cells64(addr, size)))
            if args:
                module.append(_strings("bootargs", args))
            chosen.append(module)
    elif boot.bootargs:
        chosen.append(_strings("bootargs", boot.bootargs))
    if boot.initrd:
        start, size = boot.initrd
        chosen.append(_words("linux,initrd-start", *_cells64(start)))
        chosen.append(_words("linux,initrd-end", *_cells64(start + size)))
    return chosen


def _cpus(machine):
    cpus = _node("cpus", _words("#address-cells", 2), _words("#size-cells", 0))
    for core in machine.cores:
        affinity = core.mpidr & 0xFF_00FF_FFFF
        cpus.append(_node(f"cpu@{affinity:x}", _strings("device_type", "cpu"),
                          _strings("compatible", "arm,armv8"),
                          _words("reg", *_cells64(affinity)),
                          _strings("enable-method", "psci")))
    return cpus


def _gic(machine):
    gic = machine.definition.gic
    gicr_size = gic["gicr_stride"] * len(machine.cores)
    return _node(f"interrupt-controller@{gic['gicd']:x}",
                 _strings("compatible", "arm,gic-v3"), _words("#interrupt-cells", 3),
                 _words("#address-cells", 2), _words("#size-cells", 2), fdt.Property("ranges"),
                 fdt.Property("interrupt-controller"),
                 _words("reg", *_cells64(gic["gicd"], 0x1_0000, gic["gicr"], gicr_size)),
                 _words("interrupts", GIC_PPI, gic["maintenance_ppi"], LEVEL_HIGH),
                 _words("phandle", PHANDLE_GIC))


def _timer(definition):
    cells = []
    for ppi in definition.timer_ppis:
        cells += [GIC_PPI, ppi, LEVEL_LOW]
    return _node("timer", _strings("compatible", "arm,armv8-timer"), _words("interrupts", *cells))


def _device(region):
    props = dict(region.dt)
    node = _node(f"{region.name.rstrip('0123456789') or region.name}@{region.base:x}",
                 _strings("compatible", props.pop("compatible")),
                 _words("reg", *_cells64(region.base, region.size)))
    if region.spi is not None:
        node.append(_words("interrupts", GIC_SPI, region.spi, LEVEL_HIGH))
    for name, value in props.items():
        if name == "clocks":
            node.append(_words("clocks", *[PHANDLES[c] for c in value]))
        elif isinstance(value, int):
            node.append(_words(name, value))
        else:
            node.append(_strings(name, value))
    return node
