"""Machine definitions as data: memory regions and devices at addresses, with their interrupt
wiring and device-tree description. A board is a `MachineDefinition`; the bus, the device tree
and the documentation are all generated from it.

Definitions are plugins: a package registers a callable returning a MachineDefinition under
the `fvp_rme.machines` entry-point group (see registry.py); ours is `fvp-base-revc`.
"""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class MemoryRegion:
    """RAM (or ROM/SRAM) at `base`. `kind` is 'dram' for memory the OS is given, 'sram' for
    firmware-only memory; `gpi` names the GPT protection the firmware gives its granules
    ('nonsecure', 'secure', 'realm', 'root', 'any'); `carve_outs` are (offset, size, gpi,
    name) sub-ranges reserved from the OS."""

    name: str
    base: int
    size: int
    kind: str = "dram"
    gpi: str = "nonsecure"
    carve_outs: tuple = ()


@dataclass(frozen=True)
class DeviceRegion:
    """A device of `model` (a key of the device factory table) at `base`; `spi` is its
    interrupt (SPI number) if it has one; `dt` holds device-tree properties (compatible
    first) or None when the device is not described to the OS."""

    name: str
    model: str
    base: int
    size: int
    spi: int | None = None
    dt: dict | None = None
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MachineDefinition:
    name: str
    description: str
    memory: tuple
    devices: tuple
    max_cpus: int
    mpidr: object                   # callable(cpu index) -> MPIDR_EL1 value
    dt_root: dict                   # root node properties (model, compatible)
    timer_ppis: tuple               # (secure phys, NS phys, virtual, hyp phys) PPI numbers
    gic: dict                       # GICD / GICR bases, redistributor stride, maintenance PPI
    load: dict                      # default load addresses (dtb, kernel, modules, initrd)

    def device(self, name):
        for d in self.devices:
            if d.name == name:
                return d
        raise KeyError(name)

    def memory_region(self, name):
        for m in self.memory:
            if m.name == name:
                return m
        raise KeyError(name)
