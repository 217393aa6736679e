"""Recognise a boot image and place it in a machine's physical memory: ELF (by its PT_LOAD
segments), arm64 Image (plain or gzip, per the boot protocol) or a raw binary at an address."""

from pathlib import Path
from typing import NamedTuple

from . import ImageError
from .arm64 import is_arm64_image, read_arm64_image
from .elf import ELF_MAGIC, load_elf


class Placed(NamedTuple):
    """An image placed in memory: `chunks` are (physical address, bytes, memory size)."""

    path: str
    kind: str               # 'elf', 'arm64-image' or 'raw'
    entry: int
    chunks: tuple
    symbols: dict

    @property
    def end(self):
        return max(addr + size for addr, _, size in self.chunks)


def read_file(path):
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: {exc.strerror or exc}") from None


def place_image(path, base):
    """Place the image at `path`; `base` is the load address for Images and raw binaries
    (an Image goes at base rounded down to 2 MB plus its text_offset)."""
    data = read_file(path)
    if data[:4] == ELF_MAGIC:
        elf = load_elf(path)
        chunks = tuple((seg.addr, seg.data, seg.memsz) for seg in elf.segments)
        return Placed(str(path), "elf", elf.entry, chunks, dict(elf.symbols))
    if is_arm64_image(data):
        image = read_arm64_image(path, data)
        addr = image.load_address(base)
        return Placed(str(path), "arm64-image", addr, ((addr, image.data, image.memory_size),),
                      {})
    if not data:
        raise ImageError(f"{path}: empty file")
    return Placed(str(path), "raw", base, ((base, data, len(data)),), {})


def place_blob(path, base):
    """A module or initrd: the file's bytes as they are, at `base`."""
    data = read_file(path)
    return Placed(str(path), "raw", base, ((base, data, len(data)),), {})
