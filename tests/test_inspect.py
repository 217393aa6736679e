"""`fvp-rme inspect` on real images: an arm64 ELF shipped by Debian (the cross toolchain's
libc), Debian's Xen 4.17 hypervisor Image (fetched with apt-get download, cached), ELFs built
by the GNU toolchain, the machine's generated device tree; fields are checked against
independent sources (aarch64-linux-gnu-readelf, the Image header layout of booting.rst, dtc).
Malformed files of each kind give a one-line reason."""

import gzip
import pathlib
import re
import shutil
import struct
import subprocess

import pytest
from debian_images import xen_image

from machine.board import registry
from machine.board.boot import BootConfig, build
from machine.images import ImageError
from machine.images.inspect import inspect_file

HERE = pathlib.Path(__file__).parent
LIBC = pathlib.Path("/usr/aarch64-linux-gnu/lib/libc.so.6")


def readelf(path, option):
    return subprocess.run(["aarch64-linux-gnu-readelf", option, "-W", str(path)],
                          capture_output=True, text=True, check=True).stdout


@pytest.mark.cross
def test_debian_arm64_elf_matches_readelf():
    info = inspect_file(LIBC)
    header = readelf(LIBC, "-h")
    entry = int(re.search(r"Entry point address:\s+(0x[0-9a-f]+)", header).group(1), 16)
    program = readelf(LIBC, "-l")
    loads = len(re.findall(r"^\s+LOAD\s", program, re.M))
    assert info["kind"] == "ELF" and info["machine"] == "AArch64" and info["type"] == "DYN"
    assert info["entry"] == entry and info["load_segments"] == loads
    notes = readelf(LIBC, "-n")
    assert info["build_id"] == re.search(r"Build ID: ([0-9a-f]+)", notes).group(1)


@pytest.mark.cross
def test_board_program_fits_the_machine():
    subprocess.run(["make", "-s", "-C", str(HERE / "board")], check=True, capture_output=True)
    elf = HERE / "board" / "build" / "board.elf"
    info = inspect_file(elf, registry.lookup("fvp-base-revc"))
    assert info["entry"] == 0x8400_0000 and info["fits_machine"] is True
    assert not inspect_file(LIBC, registry.lookup("fvp-base-revc"))["fits_machine"]


@pytest.mark.slow
def test_debian_xen_image_header_and_version():
    image = xen_image()
    data = image.read_bytes()
    info = inspect_file(image)
    # booting.rst: text_offset at 0x08, image_size at 0x10, flags at 0x18, magic at 0x38
    text_offset, image_size, flags = struct.unpack_from("<QQQ", data, 8)
    assert info["kind"] == "arm64 Image" and info["kernel"] == "Xen"
    assert (info["text_offset"], info["image_size"], info["flags"]) == (text_offset, image_size,
                                                                         flags)
    assert info["page_size"] == "4K" and info["efi_stub"] is True
    assert info["version"].startswith("4.17.")
    packed = image.parent / "xen.gz"
    packed.write_bytes(gzip.compress(data))
    assert inspect_file(packed)["kind"] == "arm64 Image (gzip)"


@pytest.mark.cross
@pytest.mark.skipif(shutil.which("dtc") is None, reason="needs dtc")
def test_generated_device_tree(tmp_path):
    subprocess.run(["make", "-s", "-C", str(HERE / "board")], check=True, capture_output=True)
    dtb = tmp_path / "fvp.dtb"
    build(BootConfig(kernel=str(HERE / "board" / "build" / "board.elf"),
                     definition=registry.lookup("fvp-base-revc"), cpus=4,
                     append="console=ttyAMA0", dump_dtb=str(dtb)))
    info = inspect_file(dtb)
    assert info["kind"] == "device tree" and info["model"] == "FVP Base RevC"
    assert [c["name"] for c in info["cpus"]] == ["cpu@0", "cpu@100", "cpu@200", "cpu@300"]
    assert info["memory"][0] == {"base": 0x8000_0000, "size": 0x7C00_0000}
    assert info["chosen"]["bootargs"] == "console=ttyAMA0"
    assert info["interrupt_controller"] == ["arm,gic-v3"]
    assert info["size"] == len(dtb.read_bytes())


@pytest.mark.parametrize("content,reason", [
    (b"hello, world\n", "not a recognised image"),
    (b"\x7fELF\x02\x01\x01" + bytes(9), "truncated"),
    (b"\x1f\x8b" + bytes(20), "corrupt gzip"),
    (struct.pack(">II", 0xD00DFEED, 0x10000) + bytes(32), "truncated"),
    (b"MZ" + bytes(62), "PE"),
])
def test_malformed_files_give_a_one_line_reason(tmp_path, content, reason):
    bad = tmp_path / "bad"
    bad.write_bytes(content)
    with pytest.raises(ImageError) as info:
        inspect_file(bad)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(bad)) and reason in message


def test_bundled_images_are_described():
    root = HERE.parent / "images"
    for path in sorted((root / "host").glob("*.elf")) + sorted((root / "realm").glob("*.elf")):
        info = inspect_file(path, registry.lookup("fvp-base-revc"))
        assert info["kind"] == "ELF" and info["machine"] == "AArch64" and info["symbols"] > 0
    host = inspect_file(root / "host" / "host.elf", registry.lookup("fvp-base-revc"))
    assert host["entry"] == 0x8400_0000 and host["fits_machine"] is True
