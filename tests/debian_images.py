"""Real arm64 images from Debian, fetched with `apt-get download` (scripts/setup-tests adds the
arm64 architecture) and unpacked once into a cache (FVP_RME_CACHE, default
~/.cache/fvp-rme). Nothing from these packages is committed."""

import os
import pathlib
import shutil
import subprocess

import pytest

CACHE = pathlib.Path(os.environ.get("FVP_RME_CACHE", pathlib.Path.home() / ".cache" / "fvp-rme"))
XEN_PACKAGE = "xen-hypervisor-4.17-arm64"
LINUX_PACKAGE = "linux-image-cloud-arm64"        # the metapackage: its current kernel
XEN_COMMAND_LINE = "console=dtuart dtuart=serial0 dom0_mem=256M loglvl=all"
DOM0_COMMAND_LINE = "console=hvc0 earlycon=xenboot"     # dom0's console: Xen's hvc0


def _unpack(package, directory, pattern):
    """The files of `package` matching `pattern`, downloading and unpacking it first."""
    found = sorted((CACHE / directory).glob(pattern))
    if found:
        return found[0]
    if shutil.which("apt-get") is None:
        pytest.skip(f"needs apt-get to fetch Debian's {package}")
    work = CACHE / "download"
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(["apt-get", "download", f"{package}:arm64"], cwd=work, check=True,
                   capture_output=True)
    deb = sorted(work.glob(f"{package.split(':')[0]}_*_arm64.deb"))[-1]
    subprocess.run(["dpkg-deb", "-x", str(deb), str(CACHE / directory)], check=True)
    return sorted((CACHE / directory).glob(pattern))[0]


def xen_image():
    """boot/xen-4.17-arm64 of Debian's Xen 4.17 hypervisor package (an arm64 Image)."""
    return _unpack(XEN_PACKAGE, "xen", "boot/xen-4.17-arm64")


def linux_image():
    """boot/vmlinuz-* of Debian's arm64 cloud kernel (a gzip-compressed arm64 Image)."""
    kernel = sorted((CACHE / "linux").glob("boot/vmlinuz-*"))
    if kernel:
        return kernel[0]
    work = CACHE / "download"
    work.mkdir(parents=True, exist_ok=True)
    depends = subprocess.run(["apt-cache", "depends", f"{LINUX_PACKAGE}:arm64"],
                             capture_output=True, text=True, check=True).stdout
    package = next(line.split(":", 1)[1].strip().split(":")[0] for line in depends.splitlines()
                   if line.strip().startswith("Depends: linux-image-"))
    return _unpack(package, "linux", "boot/vmlinuz-*")


def xen_boot_args():
    """The `fvp-rme run` arguments that boot Xen with the kernel as dom0 (docs/running.md)."""
    return ["--kernel", str(xen_image()), "--append", XEN_COMMAND_LINE,
            "--module", str(linux_image()), "--module-args", DOM0_COMMAND_LINE]
