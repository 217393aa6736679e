"""ELF images: `load_elf(path)` reads a 64-bit little-endian AArch64 ELF file with lief and
returns an `ElfImage` (entry point, PT_LOAD segments, symbols) that `load_into` copies into a
machine.api.Cpu.

lief tolerates damaged files (it may return None, or warn and truncate what it reads), so the
ELF header and the extents of the header tables and segments are checked against the file
itself first; every problem is an ImageError with a one-line message naming the file.
"""

import struct
from pathlib import Path
from typing import NamedTuple

import lief

from machine.memory.bus import PAGE_MASK

from . import ImageError

ELF_MAGIC = b"\x7fELF"
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB = 1
EM_AARCH64 = 183
PF_X, PF_W, PF_R = 1, 2, 4

# Elf64_Ehdr after e_ident: type, machine, version, entry, phoff, shoff, flags, ehsize,
# phentsize, phnum, shentsize, shnum, shstrndx
_EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
_PHENTSIZE, _SHENTSIZE = 56, 64

MACHINE_NAMES = {3: "x86", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 40: "Arm (AArch32)",
                 62: "x86-64", 183: "AArch64", 243: "RISC-V"}


class Segment(NamedTuple):
    """A PT_LOAD segment: `addr` is where it loads (p_paddr, or p_vaddr when loading by
    virtual address), `data` its file bytes, `memsz` its size in memory (the rest is zeroed),
    `flags` PF_R | PF_W | PF_X."""

    addr: int
    data: bytes
    memsz: int
    flags: int


class ElfImage:
    def __init__(self, path, entry, segments, symbols):
        self.path = path
        self.entry = entry
        self.segments = segments        # [Segment]
        self.symbols = symbols          # name -> address

    def page_ranges(self):
        """The 4 KB-aligned [start, end) ranges covering every segment's memory image, with
        overlapping and adjacent ranges merged, in address order."""
        ranges = []
        for seg in sorted(self.segments):
            if not seg.memsz:
                continue
            start = seg.addr & ~PAGE_MASK
            end = (seg.addr + seg.memsz + PAGE_MASK) & ~PAGE_MASK
            if ranges and start <= ranges[-1][1]:
                ranges[-1][1] = max(ranges[-1][1], end)
            else:
                ranges.append([start, end])
        return [tuple(r) for r in ranges]

    def load_into(self, cpu):
        """Map RAM for `page_ranges()` in `cpu` (a machine.api.Cpu), copy each segment's file
        bytes there and zero the rest of its memory size."""
        for start, end in self.page_ranges():
            cpu.map(start, end - start)
        for seg in self.segments:
            cpu.write(seg.addr, seg.data)
            if seg.memsz > len(seg.data):
                cpu.write(seg.addr + len(seg.data), bytes(seg.memsz - len(seg.data)))

    def __repr__(self):
        return (f"ElfImage({str(self.path)!r}, entry={self.entry:#x}, "
                f"{len(self.segments)} segments, {len(self.symbols)} symbols)")


def load_elf(path, physical=True):
    """Read the ELF file at `path`; segments load at p_paddr, or p_vaddr if not `physical`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: {exc.strerror or exc}") from None
    _check_header(path, raw)
    with lief.logging.level_scope(lief.logging.LEVEL.OFF):
        binary = lief.ELF.parse(str(path))
    if binary is None:
        raise ImageError(f"{path}: corrupt ELF file (lief cannot parse it)")
    segments = _load_segments(path, raw, binary, physical)
    return ElfImage(path, binary.header.entrypoint, segments, _symbols(binary))


def _check_header(path, raw):
    """The checks lief does not report reliably: identity, machine and table extents."""
    if raw[:4] != ELF_MAGIC:
        raise ImageError(f"{path}: not an ELF file")
    if len(raw) < 5 or raw[4] not in (ELFCLASS32, ELFCLASS64):
        raise ImageError(f"{path}: corrupt ELF file (bad class)")
    if raw[4] == ELFCLASS32:
        raise ImageError(f"{path}: 32-bit ELF file: only 64-bit AArch64 images are supported")
    if len(raw) < _EHDR.size:
        raise ImageError(f"{path}: truncated ELF file ({len(raw)} bytes, shorter than the "
                         "ELF header)")
    (ident, _type, machine, _version, _entry, phoff, shoff, _flags, _ehsize, phentsize, phnum,
     shentsize, shnum, _shstrndx) = _EHDR.unpack_from(raw)
    if ident[5] != ELFDATA2LSB:
        raise ImageError(f"{path}: big-endian ELF file: only little-endian images are supported")
    if machine != EM_AARCH64:
        name = MACHINE_NAMES.get(machine, "unknown")
        raise ImageError(f"{path}: not an AArch64 ELF file (machine {machine}: {name})")
    if phnum and phentsize != _PHENTSIZE or shnum and shentsize != _SHENTSIZE:
        raise ImageError(f"{path}: corrupt ELF file (bad header table entry size)")
    for what, offset, count, size in (("program", phoff, phnum, phentsize),
                                      ("section", shoff, shnum, shentsize)):
        end = offset + count * size
        if count and end > len(raw):
            raise ImageError(f"{path}: truncated ELF file: the {what} header table ends at "
                             f"{end:#x}, beyond the end of the file ({len(raw):#x})")


def _load_segments(path, raw, binary, physical):
    segments = []
    loads = [seg for seg in binary.segments if seg.type == lief.ELF.Segment.TYPE.LOAD]
    if not loads:
        raise ImageError(f"{path}: no PT_LOAD segments")
    for i, seg in enumerate(loads):
        offset, filesz, memsz = seg.file_offset, seg.physical_size, seg.virtual_size
        if offset + filesz > len(raw):
            raise ImageError(f"{path}: PT_LOAD segment {i} file data {offset:#x}+{filesz:#x} "
                             f"extends beyond the end of the file ({len(raw):#x})")
        if memsz < filesz:
            raise ImageError(f"{path}: corrupt PT_LOAD segment {i}: memory size {memsz:#x} is "
                             f"smaller than its file size {filesz:#x}")
        addr = seg.physical_address if physical else seg.virtual_address
        segments.append(Segment(addr, raw[offset:offset + filesz], memsz, int(seg.flags)))
    return segments


_SKIPPED_SYMBOLS = (lief.ELF.Symbol.TYPE.FILE, lief.ELF.Symbol.TYPE.SECTION)


def _symbols(binary):
    """Defined symbols by name (not file, section or $x/$d mapping symbols). A global symbol
    wins over a local one of the same name; among locals the first one wins."""
    symbols = {}
    defined = [sym for sym in binary.symtab_symbols
               if sym.name and sym.shndx != 0 and sym.type not in _SKIPPED_SYMBOLS
               and not sym.name.startswith("$")]
    for sym in defined:
        if sym.binding == lief.ELF.Symbol.BINDING.LOCAL:
            symbols.setdefault(sym.name, sym.value)
    for sym in defined:
        if sym.binding != lief.ELF.Symbol.BINDING.LOCAL:
            symbols[sym.name] = sym.value
    return symbols

