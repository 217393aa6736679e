"""`fvp-rme inspect`: recognise and describe an image -- ELF, arm64 Image (plain or gzip),
PE/EFI, flattened device tree -- as a dictionary of facts, and format it for people.

Every description starts with `kind`; a file that is not one of these, or is damaged, raises
ImageError with a one-line reason.
"""

import gzip
import hashlib
import re
import struct
import zlib

import cbor2
import fdt
import lief

from . import ImageError
from .arm64 import GZIP_MAGIC, IMAGE_MAGIC, PAGE_SIZES
from .elf import ELF_MAGIC, MACHINE_NAMES, PF_R, PF_W, PF_X, load_elf
from .loader import read_file

DTB_MAGIC = 0xD00D_FEED
PE_MACHINES = {0xAA64: "AArch64", 0x8664: "x86-64", 0x14C: "x86", 0x1C0: "Arm"}
LINUX_VERSION = re.compile(rb"Linux version (\S+)")
XEN_VERSION = re.compile(rb"\x00(4\.\d+\.\d+[\w.+~-]*)\x00")


def inspect_file(path, machine=None):
    """The description of the file at `path`; `machine` (a MachineDefinition) adds whether an
    ELF's segments fit its Non-secure DRAM."""
    data = read_file(path)
    if data[:4] == ELF_MAGIC:
        return describe_elf(path, machine)
    if data[:2] == GZIP_MAGIC:
        return describe_gzip(path, data)
    if len(data) >= 0x40 and struct.unpack_from("<I", data, 0x38)[0] == IMAGE_MAGIC:
        return describe_arm64_image(path, data)
    if data[:2] == b"MZ":
        return describe_pe(path, data)
    if len(data) >= 4 and struct.unpack_from(">I", data)[0] == DTB_MAGIC:
        return describe_dtb(path, data)
    if data[:3] == CCA_TOKEN_PREFIX:
        return describe_token(path, data)
    raise ImageError(f"{path}: not a recognised image (ELF, arm64 Image, gzip, PE/EFI, "
                     "device tree or CCA token)")


# --- ELF ---------------------------------------------------------------------------------------

def _perms(flags):
    return "".join(c if flags & f else "-" for c, f in (("r", PF_R), ("w", PF_W), ("x", PF_X)))


def describe_elf(path, machine=None):
    image = load_elf(path)                 # validates, one-line errors
    binary = _lief_elf(path)
    segments = [{"type": str(seg.type).split(".")[-1], "vaddr": seg.virtual_address,
                 "paddr": seg.physical_address, "filesz": seg.physical_size,
                 "memsz": seg.virtual_size, "flags": _perms(int(seg.flags))}
                for seg in binary.segments]
    loads = [s for s in segments if s["type"] == "LOAD"]
    header = binary.header
    info = {
        "kind": "ELF", "class": "ELF64",
        "machine": MACHINE_NAMES.get(int(header.machine_type), str(header.machine_type)),
        "type": str(header.file_type).split(".")[-1], "entry": image.entry,
        "segments": segments, "load_segments": len(loads),
        "sections": [s.name for s in binary.sections if s.name],
        "symbols": sum(1 for sym in binary.symbols if sym.name), "build_id": _build_id(binary),
    }
    if machine is not None:
        info["fits_machine"] = all(_in_ns_dram(machine, s["paddr"], s["memsz"]) for s in loads)
    return info


def _lief_elf(path):
    with lief.logging.level_scope(lief.logging.LEVEL.OFF):
        binary = lief.ELF.parse(str(path))
    if binary is None:
        raise ImageError(f"{path}: lief cannot parse this ELF")
    return binary


def _build_id(binary):
    for note in binary.notes:
        if str(note.type).endswith("BUILD_ID"):
            return bytes(note.description).hex()
    return None


def _in_ns_dram(machine, addr, size):
    ranges = []
    for region in machine.memory:
        if region.kind == "dram":
            usable = region.size - sum(c[1] for c in region.carve_outs)
            ranges.append((region.base, usable))
    return any(base <= addr and addr + size <= base + length for base, length in ranges)


# --- arm64 Image, gzip, PE ---------------------------------------------------------------------

def describe_arm64_image(path, data, compressed=False):
    code0, code1, text_offset, image_size, flags, *_rest, pe = struct.unpack_from(
        "<IIQQQQQQII", data)
    info = {
        "kind": "arm64 Image" + (" (gzip)" if compressed else ""),
        "code0": code0, "code1": code1, "text_offset": text_offset, "image_size": image_size,
        "flags": flags, "endianness": "big" if flags & 1 else "little",
        "page_size": PAGE_SIZES[(flags >> 1) & 3],
        "placement": "anywhere" if flags & 8 else "near the base of DRAM",
        "magic": "ARM\\x64", "pe_header_offset": pe, "efi_stub": data[:2] == b"MZ",
        "file_size": len(data),
    }
    info.update(_kernel_identity(data))
    return info


def _kernel_identity(data):
    linux = LINUX_VERSION.search(data)
    if linux:
        return {"kernel": "Linux", "version": linux.group(1).decode("ascii", "replace")}
    if b"Xen version %d.%d%s" in data:
        version = XEN_VERSION.search(data)
        return {"kernel": "Xen",
                "version": version.group(1).decode("ascii", "replace") if version else None}
    return {"kernel": "unknown"}


def describe_gzip(path, data):
    try:
        inner = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ImageError(f"{path}: corrupt gzip data ({exc})") from None
    if len(inner) >= 0x40 and struct.unpack_from("<I", inner, 0x38)[0] == IMAGE_MAGIC:
        info = describe_arm64_image(path, inner, compressed=True)
        info["compressed_size"] = len(data)
        return info
    raise ImageError(f"{path}: gzip data that is not an arm64 Image")


def describe_pe(path, data):
    with lief.logging.level_scope(lief.logging.LEVEL.OFF):
        binary = lief.PE.parse(list(data))
    if binary is None:
        raise ImageError(f"{path}: an MZ header but not a valid PE image")
    header = binary.header
    optional = binary.optional_header
    return {
        "kind": "PE/EFI", "machine": PE_MACHINES.get(int(header.machine),
                                                    hex(int(header.machine))),
        "subsystem": str(optional.subsystem).split(".")[-1],
        "entry_rva": optional.addressof_entrypoint, "image_base": optional.imagebase,
        "sections": [s.name for s in binary.sections],
        **_kernel_identity(data),
    }


# --- device tree ---------------------------------------------------------------------------------

def describe_dtb(path, data):
    total = struct.unpack_from(">I", data, 4)[0] if len(data) >= 8 else 0
    if total > len(data):
        raise ImageError(f"{path}: device tree truncated ({len(data)} of {total} bytes)")
    try:
        tree = fdt.parse_dtb(data)
    except Exception as exc:      # the fdt package raises several types on bad input
        raise ImageError(f"{path}: invalid device tree ({exc})") from None
    root = tree.root
    cells = (_word(root, "#address-cells", 2), _word(root, "#size-cells", 1))
    info = {"kind": "device tree", "size": total,
            "model": _string(root, "model"), "compatible": _strings(root, "compatible"),
            "memory": [], "cpus": [], "chosen": {}, "interrupt_controller": None}
    for node in root.nodes:
        if _string(node, "device_type") == "memory":
            info["memory"] += _reg(node, *cells)
        elif node.name == "cpus":
            for cpu in node.nodes:
                info["cpus"].append({"name": cpu.name,
                                     "enable_method": _string(cpu, "enable-method")})
        elif node.name == "chosen":
            info["chosen"] = {p.name: _value(p) for p in node.props}
            info["modules"] = [{"name": m.name, "compatible": _strings(m, "compatible"),
                                "reg": _reg(m, _word(node, "#address-cells", cells[0]),
                                            _word(node, "#size-cells", cells[1]))}
                               for m in node.nodes]
        elif node.exist_property("interrupt-controller"):
            info["interrupt_controller"] = _strings(node, "compatible")
    return info


def _value(prop):
    if isinstance(prop, fdt.PropStrings):
        return prop.value if len(prop.data) == 1 else list(prop.data)
    if isinstance(prop, fdt.PropWords):
        return [int(w) for w in prop.data]
    return None


def _prop(node, name):
    return node.get_property(name) if node.exist_property(name) else None


def _word(node, name, default):
    prop = _prop(node, name)
    return int(prop.data[0]) if isinstance(prop, fdt.PropWords) and prop.data else default


def _string(node, name):
    prop = _prop(node, name)
    return prop.value if isinstance(prop, fdt.PropStrings) else None


def _strings(node, name):
    prop = _prop(node, name)
    return list(prop.data) if isinstance(prop, fdt.PropStrings) else []


def _reg(node, address_cells, size_cells):
    prop = _prop(node, "reg")
    if not isinstance(prop, fdt.PropWords):
        return []
    words = [int(w) for w in prop.data]
    step = address_cells + size_cells
    out = []
    for i in range(0, len(words) - step + 1, step):
        addr = _join(words[i:i + address_cells])
        size = _join(words[i + address_cells:i + step])
        out.append({"base": addr, "size": size})
    return out


def _join(words):
    value = 0
    for w in words:
        value = (value << 32) | w
    return value


# --- CCA attestation tokens -------------------------------------------------------------------

CCA_TOKEN_PREFIX = b"\xd9\x03\x8b"        # CBOR tag 907 (the CMW collection)
REALM_CLAIMS = {10: "challenge", 256: "instance id", 44235: "personalization value",
                44236: "hash algorithm", 44237: "public key", 44238: "RIM", 44239: "REMs",
                44240: "public key hash algorithm", 44243: "MEC policy", 265: "profile"}


def describe_token(path, data, keys=None):
    """Decode a CCA token, verify both signatures (the realm token's with the key it carries,
    the platform token's with the model's platform key) and the binding of the platform token
    to the realm key. `verified` is False if any check fails."""
    from machine.rmm import attestation

    keys = keys or attestation.KEYS
    try:
        token = cbor2.loads(data)
        collection = token.value
        platform = cbor2.loads(collection[44234][1])
        realm = cbor2.loads(collection[44241][1])
        realm_claims = cbor2.loads(realm.value[2])
        platform_claims = cbor2.loads(platform.value[2])
    except (cbor2.CBORDecodeError, AttributeError, KeyError, TypeError, IndexError) as exc:
        raise ImageError(f"{path}: not a valid CCA token ({exc})") from None
    rak = realm_claims.get(44237, b"")
    checks = {
        "realm signature": attestation.verify_sign1(rak, realm.value),
        "platform signature": attestation.verify_sign1(keys.cpak.cose_key(), platform.value),
        "platform token bound to the realm key":
            platform_claims.get(10) == hashlib.sha256(rak).digest(),
    }
    claims = {REALM_CLAIMS.get(k, str(k)): (v.hex() if isinstance(v, bytes) else
                                            [x.hex() for x in v] if isinstance(v, list) else v)
              for k, v in realm_claims.items() if k != 44237}
    return {"kind": "CCA token", "size": len(data), "claims": claims, "checks": checks,
            "verified": all(checks.values())}


# --- output -----------------------------------------------------------------------------------

def format_report(path, info):
    """A human-readable description."""
    lines = [f"{path}: {info['kind']}"]
    for key, value in info.items():
        if key == "kind":
            continue
        if key == "segments":
            for seg in value:
                lines.append(f"  segment {seg['type']:<8} vaddr {seg['vaddr']:#x} paddr "
                             f"{seg['paddr']:#x} filesz {seg['filesz']:#x} memsz "
                             f"{seg['memsz']:#x} {seg['flags']}")
            continue
        if key == "sections" and len(value) > 12:
            value = value[:12] + [f"... ({len(value)} in all)"]
        if isinstance(value, int) and not isinstance(value, bool) and key not in (
                "load_segments", "symbols"):
            value = f"{value:#x}"
        lines.append(f"  {key.replace('_', ' ')}: {value}")
    return "\n".join(lines)
