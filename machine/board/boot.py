"""Putting a machine together for `fvp-rme run`: the images at their load addresses, the
device tree, and CPU 0 entering the kernel at Non-secure EL2 per the arm64 boot protocol."""

from dataclasses import dataclass, field
from pathlib import Path

from machine.images import ImageError
from machine.images.loader import Placed, place_blob, place_image

from . import devicetree
from .machine import Machine

MB = 1 << 20


@dataclass
class BootConfig:
    kernel: str
    definition: object
    cpus: int = 1
    memory: int = 2 << 30
    append: str | None = None
    modules: list = field(default_factory=list)      # paths
    module_args: list = field(default_factory=list)  # bootargs per module (or None)
    initrd: str | None = None
    dtb: str = "auto"
    dump_dtb: str | None = None
    consoles: dict = field(default_factory=dict)
    icount_shift: int = 2
    rmm_trace: object = None          # callable(line) for --trace rmi
    rmm_inject: object = None         # machine.rmm.Injector for --rmm-inject


def _align(value, alignment):
    return (value + alignment - 1) & ~(alignment - 1)


def _check_fits(ranges, placed, where):
    for addr, _data, size in placed.chunks:
        if not any(base <= addr and addr + size <= base + length for base, length in ranges):
            raise ImageError(f"{placed.path}: does not fit in {where} ({addr:#x}+{size:#x})")


def firmware_memory(definition):
    """(base, size) of the firmware-only memory (trusted SRAM): an image whose entry point is
    there is an EL3 image."""
    return [(r.base, r.size) for r in definition.memory if r.kind == "sram"]


def _overlap(placed):
    spans = sorted((addr, addr + size, p.path) for p in placed for addr, _, size in p.chunks)
    for (_, end, first), (start, _, second) in zip(spans, spans[1:], strict=False):
        if start < end:
            raise ImageError(f"{second}: overlaps {first} at {start:#x}")


def build(config):
    """The machine of `config` with its images loaded and CPU 0 ready at the kernel entry."""
    machine = Machine(config.definition, cpus=config.cpus, memory=config.memory,
                      consoles=config.consoles, icount_shift=config.icount_shift,
                      rmm_trace=config.rmm_trace, rmm_inject=config.rmm_inject)
    load = config.definition.load
    kernel = place_image(config.kernel, load["kernel"])
    placed = [kernel]
    modules = []
    address = load["module"]
    for i, path in enumerate(config.modules):
        module = place_blob(path, address)
        args = config.module_args[i] if i < len(config.module_args) else None
        modules.append((address, len(module.chunks[0][1]), args))
        placed.append(module)
        address = _align(module.end, 2 * MB)
    initrd = None
    if config.initrd:
        blob = place_blob(config.initrd, load["initrd"])
        placed.append(blob)
        initrd = (load["initrd"], len(blob.chunks[0][1]))
    if config.dtb == "auto":
        dtb = devicetree.build(machine, devicetree.BootInfo(config.append, initrd, modules))
    else:
        dtb = _read(config.dtb)
    if config.dump_dtb:
        Path(config.dump_dtb).write_bytes(dtb)
    placed.append(place_blob_bytes("device tree", dtb, load["dtb"]))
    el3 = any(base <= kernel.entry < base + size
              for base, size in firmware_memory(config.definition))
    if el3:
        _check_fits(firmware_memory(config.definition), kernel, "firmware memory")
    for p in placed[1:] if el3 else placed:
        _check_fits(machine.ns_memory, p, "Non-secure DRAM")
    _overlap(placed)
    for p in placed:
        machine.load(p)
    machine.symbols = dict(kernel.symbols)
    if el3:
        machine.boot_el3(kernel.entry, load["dtb"])
    else:
        machine.boot(kernel.entry, load["dtb"])
    return machine


def place_blob_bytes(name, data, address):
    return Placed(name, "raw", address, ((address, data, len(data)),), {})


def _read(path):
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: {exc.strerror or exc}") from None
