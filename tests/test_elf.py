"""machine.images.elf: real images checked against readelf, loading into a Cpu, and the one-line
errors for files that are not loadable AArch64 ELF images."""

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from machine.api import Cpu
from machine.bench import WORKLOADS
from machine.images import ImageError
from machine.images import elf as elf_module
from machine.images.elf import PF_R, PF_W, PF_X, ElfImage, Segment, load_elf

READELF_FLAGS = {"R": PF_R, "W": PF_W, "E": PF_X}
LOAD_LINE = re.compile(r"^\s*LOAD\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+(0x\S+)\s+"
                       r"([RWE ]+?)\s+0x\S+$")
SAMPLE = WORKLOADS["sort_crc"]        # a prebuilt AArch64 ELF from the repository


def readelf(path):
    """(entry, [(paddr, offset, filesz, memsz, flags)], {name: (value, bind)}, local names
    seen more than once) from `aarch64-linux-gnu-readelf -lsW`."""
    out = subprocess.run(["aarch64-linux-gnu-readelf", "-lsW", str(path)], capture_output=True,
                         text=True, check=True).stdout
    entry = int(re.search(r"Entry point (0x[0-9a-f]+)", out).group(1), 16)
    loads = []
    symbols, repeated = {}, set()
    for line in out.splitlines():
        m = LOAD_LINE.match(line)
        if m:
            offset, _vaddr, paddr, filesz, memsz = (int(g, 16) for g in m.groups()[:5])
            flags = sum(READELF_FLAGS[f] for f in m.group(6).replace(" ", ""))
            loads.append((paddr, offset, filesz, memsz, flags))
            continue
        fields = line.split()
        if len(fields) == 8 and fields[0].endswith(":") and fields[0][:-1].isdigit():
            _num, value, _size, typ, bind, _vis, ndx, name = fields
            if typ in ("FILE", "SECTION") or ndx == "UND" or name.startswith("$"):
                continue
            if name in symbols and bind == "LOCAL":
                repeated.add(name)
                continue
            if name not in symbols or bind != "LOCAL":
                symbols[name] = (int(value, 16), bind)
    return entry, loads, symbols, repeated


def real_elfs():
    from test_c_programs import build_programs
    build = build_programs()
    return [build / "fib-O2.elf", build / "float-O0.elf", build / "atomics_lse-O2.elf",
            *WORKLOADS.values()]


@pytest.mark.cross
def test_real_images_match_readelf():
    for path in real_elfs():
        image = load_elf(path)
        entry, loads, symbols, repeated = readelf(path)
        raw = path.read_bytes()
        assert image.entry == entry, path
        assert [(s.addr, len(s.data), s.memsz, s.flags) for s in image.segments] == \
            [(paddr, filesz, memsz, flags) for paddr, _off, filesz, memsz, flags in loads], path
        for seg, (_paddr, offset, filesz, _memsz, _flags) in zip(image.segments, loads,
                                                                  strict=True):
            assert seg.data == raw[offset:offset + filesz], path
        assert set(image.symbols) == set(symbols), path
        for name, (value, _bind) in symbols.items():
            if name not in repeated:
                assert image.symbols[name] == value, (path, name)
        assert image.symbols["_start"] == image.entry


def test_load_into_maps_pages_and_copies_segments():
    image = load_elf(SAMPLE)
    cpu = Cpu(el=1)
    image.load_into(cpu)
    mapped = sorted((r.base, r.base + r.size) for r in cpu.bus.regions)
    assert mapped == image.page_ranges()
    for seg in image.segments:
        assert cpu.read(seg.addr, len(seg.data)) == seg.data
        assert cpu.read(seg.addr + len(seg.data), seg.memsz - len(seg.data)) == \
            bytes(seg.memsz - len(seg.data))


def test_page_ranges_merge_overlapping_and_adjacent_pages():
    segs = [Segment(0x5000, b"", 0x10, PF_R),            # separate page
            Segment(0x1000, b"\1" * 0x10, 0x800, PF_R | PF_X),
            Segment(0x1800, b"", 0x1000, PF_R | PF_W),    # overlaps the first page
            Segment(0x3000, b"", 0x1000, PF_R),           # adjacent to 0x2000-0x3000
            Segment(0x9000, b"", 0, PF_R)]                # empty: no memory
    image = ElfImage("synthetic", 0x1000, segs, {})
    assert image.page_ranges() == [(0x1000, 0x4000), (0x5000, 0x6000)]


def test_load_into_zero_fills_to_memsz():
    # the second segment's zero-filled part overwrites the first segment's bytes
    segs = [Segment(0x2000, b"\xff" * 0x100, 0x100, PF_R),
            Segment(0x2040, b"\xaa" * 0x10, 0x40, PF_R | PF_W)]
    cpu = Cpu(el=1)
    ElfImage("synthetic", 0x2000, segs, {}).load_into(cpu)
    assert cpu.read(0x2000, 0x100) == (b"\xff" * 0x40 + b"\xaa" * 0x10 + bytes(0x30)
                                       + b"\xff" * 0x80)


# --- malformed files -------------------------------------------------------------------------

def patched(raw, offset, fmt, value):
    data = bytearray(raw)
    struct.pack_into(fmt, data, offset, value)
    return bytes(data)


def without_section_headers(raw):
    """The image with e_shoff, e_shnum and e_shstrndx cleared (only program headers left)."""
    data = patched(raw, 40, "<Q", 0)
    return patched(patched(data, 60, "<H", 0), 62, "<H", 0)


def first_load_end(raw):
    phoff = struct.unpack_from("<Q", raw, 32)[0]
    offset, _vaddr, _paddr, filesz = struct.unpack_from("<QQQQ", raw, phoff + 8)
    return offset + filesz


def all_segments_null(raw):
    phoff, = struct.unpack_from("<Q", raw, 32)
    phnum, = struct.unpack_from("<H", raw, 56)
    data = raw
    for i in range(phnum):
        data = patched(data, phoff + 56 * i, "<I", 0)       # p_type = PT_NULL
    return data


RAW = SAMPLE.read_bytes()
MALFORMED = {
    "text": (b"just some text\n", "not an ELF file"),
    "empty": (b"", "not an ELF file"),
    "machine": (patched(RAW, 18, "<H", 62), "not an AArch64 ELF file (machine 62: x86-64)"),
    "class32": (patched(RAW, 4, "B", 1), "32-bit ELF file"),
    "bigendian": (patched(RAW, 5, "B", 2), "big-endian ELF file"),
    "header": (RAW[:40], "truncated ELF file (40 bytes, shorter than the ELF header)"),
    "phdrs": (RAW[:100], "truncated ELF file: the program header table ends at 0xb0"),
    "shdrs": (RAW[:len(RAW) // 2], "truncated ELF file: the section header table ends at"),
    "segment": (without_section_headers(RAW)[:first_load_end(RAW) - 16],
                "PT_LOAD segment 0 file data 0x1000+"),
    "no_load": (all_segments_null(RAW), "no PT_LOAD segments"),
    "phentsize": (patched(RAW, 54, "<H", 32), "corrupt ELF file (bad header table entry size)"),
}


@pytest.mark.parametrize("case", MALFORMED)
def test_malformed_file_gives_one_line_error(case, tmp_path, capfd):
    data, expected = MALFORMED[case]
    path = tmp_path / f"{case}.elf"
    path.write_bytes(data)
    with pytest.raises(ImageError) as info:
        load_elf(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert expected in message
    assert capfd.readouterr().err == ""              # lief's own logging is silenced


def test_x86_64_executable_is_refused():
    ls = Path(shutil.which("ls") or "/bin/ls").resolve()
    if ls.read_bytes()[18:20] != struct.pack("<H", 62):
        pytest.skip(f"{ls} is not an x86-64 ELF on this host")
    with pytest.raises(ImageError, match=r": not an AArch64 ELF file \(machine 62: x86-64\)$"):
        load_elf(ls)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match=r"nothing\.elf: No such file or directory$"):
        load_elf(tmp_path / "nothing.elf")


def test_lief_parse_failure(monkeypatch):
    monkeypatch.setattr(elf_module.lief.ELF, "parse", lambda path: None)
    with pytest.raises(ImageError, match=r": corrupt ELF file \(lief cannot parse it\)$"):
        load_elf(SAMPLE)
