"""arm64 "Image" files (Linux's and Xen's boot image format, Documentation/arch/arm64/
booting.rst), plain or gzip-compressed as Debian ships vmlinuz, and raw binaries."""

import gzip
import struct
import zlib
from typing import NamedTuple

from . import ImageError

IMAGE_MAGIC = 0x644D_5241            # "ARM\x64" at offset 0x38
HEADER = struct.Struct("<IIQQQQQQI I")
HEADER_SIZE = 0x40
GZIP_MAGIC = b"\x1f\x8b"
DEFAULT_TEXT_OFFSET = 0x80000        # assumed when image_size is 0 (pre-3.17 kernels)
PAGE_SIZES = {0: "unspecified", 1: "4K", 2: "16K", 3: "64K"}


class Arm64Header(NamedTuple):
    code0: int
    code1: int
    text_offset: int
    image_size: int
    flags: int
    pe_offset: int

    @property
    def big_endian(self):
        return bool(self.flags & 1)

    @property
    def page_size(self):
        return PAGE_SIZES[(self.flags >> 1) & 3]

    @property
    def anywhere(self):
        """Bit 3: the image may be placed anywhere in physical memory (else near DRAM base)."""
        return bool(self.flags & 8)


class Arm64Image(NamedTuple):
    path: str
    data: bytes
    header: Arm64Header
    compressed: bool

    def load_address(self, base):
        """Where the image goes given a 2 MB-aligned `base`: base + text_offset."""
        return (base & ~0x1F_FFFF) + self.header.text_offset

    @property
    def memory_size(self):
        return max(self.header.image_size, len(self.data))


def is_gzip(data):
    return data[:2] == GZIP_MAGIC


def parse_header(path, data):
    if len(data) < HEADER_SIZE:
        raise ImageError(f"{path}: too short for an arm64 Image header ({len(data)} bytes)")
    code0, code1, text_offset, image_size, flags, _r2, _r3, _r4, magic, pe = \
        HEADER.unpack_from(data)
    if magic != IMAGE_MAGIC:
        raise ImageError(f"{path}: not an arm64 Image (no ARM\\x64 magic at offset 0x38)")
    if image_size == 0:
        text_offset = DEFAULT_TEXT_OFFSET
    return Arm64Header(code0, code1, text_offset, image_size, flags, pe)


def decompress(path, data):
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImageError(f"{path}: corrupt gzip data ({exc})") from None


def read_arm64_image(path, data):
    compressed = is_gzip(data)
    if compressed:
        data = decompress(path, data)
    header = parse_header(path, data)
    if header.big_endian:
        raise ImageError(f"{path}: big-endian arm64 Image (this machine runs little-endian)")
    if header.page_size not in ("4K", "unspecified"):
        raise ImageError(f"{path}: built for {header.page_size} pages; only 4 KB pages are "
                         "implemented")
    return Arm64Image(str(path), data, header, compressed)


def is_arm64_image(data):
    if is_gzip(data):
        return True
    return len(data) >= HEADER_SIZE and struct.unpack_from("<I", data, 0x38)[0] == IMAGE_MAGIC
