"""The bundled programs of stubs/ (a minimal CCA host hypervisor at NS-EL2 and its realm
payloads): images/ is exactly what `make -C stubs` builds and images/SHA256SUMS lists it;
the host boots on the FVP with `fvp-rme run`, drives RMI 2.0 through realm lifecycles, and
without an RMM it reports the failure and powers off instead of hanging or crashing."""

import hashlib
import importlib.util
import pathlib
import re
import subprocess
import sys

import pytest

from machine.board import registry
from machine.board.boot import BootConfig, build

REPO = pathlib.Path(__file__).resolve().parents[1]
STUBS = REPO / "stubs"
IMAGES = REPO / "images"
HOST = IMAGES / "host" / "host.elf"
INTERACTIVE = IMAGES / "host" / "host-interactive.elf"
BANNER = "host: fvp-rme CCA host at NS-EL2; realms: hello attest\n"

# Realm execution (RMI_REC_ENTER running the realm on the CPU) is machine.rmm.recrun.
needs_rec_entry = pytest.mark.skipif(importlib.util.find_spec("machine.rmm.recrun") is None,
                                     reason="RMI_REC_ENTER does not run realms yet")


def manifest():
    lines = (IMAGES / "SHA256SUMS").read_text().splitlines()
    return dict(reversed(line.split("  ", 1)) for line in lines)


def test_sha256sums_lists_every_image_with_its_digest():
    sums = manifest()
    on_disk = sorted(str(p.relative_to(IMAGES)) for p in IMAGES.rglob("*")
                     if p.is_file() and p.parts[len(IMAGES.parts)] != "bench"
                     and p.name != "SHA256SUMS")
    assert sorted(sums) == on_disk
    for name, digest in sums.items():
        assert hashlib.sha256((IMAGES / name).read_bytes()).hexdigest() == digest, name
    assert {"host/host.elf", "host/host-interactive.elf", "realm/hello.bin",
            "realm/attest.bin", "realm/smp.bin", "realm/ripas.bin",
            "realm/isolation.bin"} <= set(sums)


@pytest.mark.cross
def test_rebuild_reproduces_images(tmp_path):
    done = subprocess.run(["make", "-C", str(STUBS), f"OUT={tmp_path}", "--no-print-directory"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "SHA256SUMS").read_text() == (IMAGES / "SHA256SUMS").read_text()
    for name in manifest():
        assert (tmp_path / name).read_bytes() == (IMAGES / name).read_bytes(), name


def test_realm_images_carry_their_header():
    for name, recs in {"hello": 1, "smp": 2, "ripas": 1, "attest": 1, "isolation": 1}.items():
        image = (IMAGES / "realm" / f"{name}.bin").read_bytes()
        assert image[8:16] == b"PRLMMG01", name
        assert int.from_bytes(image[16:20], "little") == recs, name
        assert 0 < int.from_bytes(image[24:32], "little") <= 2 << 20, name


def run_cli(kernel, timeout=300):
    return subprocess.run([sys.executable, "-m", "machine.cli", "run", "--kernel", str(kernel)],
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def test_host_boots_prints_its_banner_and_the_rmi_version_step():
    """Whatever the RMM answers, the host says what RMI_VERSION did and ends with a verdict
    and a PSCI SYSTEM_OFF (exit status 0): it never hangs or crashes."""
    out = run_cli(HOST)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines(keepends=True)
    assert lines[0] == BANNER
    assert lines[1].startswith(("host: RMI_VERSION ok", "host: RMI_VERSION failed: status"))
    assert lines[-1] in ("host: all done\n", "host: FAILED\n")
    if "failed" in lines[1]:
        assert lines[2:] == ["host: FAILED\n"]


def run_machine(tmp_path, kernel=HOST, setup=None):
    """Run `kernel` on a machine built like `fvp-rme run` builds it, after `setup(machine)`;
    (exit, console transcript)."""
    console = tmp_path / "uart0.txt"
    machine = build(BootConfig(kernel=str(kernel), definition=registry.lookup("fvp-base-revc"),
                               consoles={"uart0": f"file:{console}"}))
    if setup is not None:
        setup(machine)
    result = machine.run(300_000_000)
    return result, console.read_text()


def test_without_an_rmm_the_host_reports_the_failure_and_powers_off(tmp_path):
    def no_rmm(machine):
        machine.firmware.rmm = None             # EL3 answers RMI FIDs with SMC_UNKNOWN
        machine.rec_runner = None

    result, text = run_machine(tmp_path, setup=no_rmm)
    assert (result.status, result.reason) == (0, "system off")
    assert text == (
        BANNER +
        "host: RMI_VERSION failed: status -1 index 0 (SMC_UNKNOWN: no RMM answers RMI)\n"
        "host: FAILED\n")


@needs_rec_entry
def test_an_rmi_error_is_reported_with_status_and_index_and_powers_off(tmp_path):
    def fail_rtt_create(machine):
        rmm = machine.firmware.rmm
        handle = rmm.handle

        def handle_with_error(regs):
            if regs[0] & 0xFFFF_FFFF == 0xC400_015D and regs[4] == 3:   # RTT_CREATE level 3
                return [0x204] + list(regs[1:])                        # ERROR_RTT, index 2
            return handle(regs)
        rmm.handle = handle_with_error

    result, text = run_machine(tmp_path, setup=fail_rtt_create)
    assert (result.status, result.reason) == (0, "system off")
    assert text.endswith("host: RMI_RTT_CREATE ok (level 2 RTT 0x84206000 for IPA 0x80000000)\n"
                         "host: RMI_RTT_CREATE failed: status 4 index 2\n"
                         "host: FAILED\n")


@needs_rec_entry
@pytest.mark.parametrize("seed", [1, 2])
def test_host_copes_with_busy_and_incomplete_answers(tmp_path, seed):
    """BUSY on SRO-capable commands, partial donations and reclaims, extra OP_CONTINUEs and
    IRQ-yields of DATA_MAP/DATA_UNMAP (machine.rmm.inject): the same realms run and every
    granule comes back."""
    from machine.rmm.inject import Injector

    def inject(machine):
        machine.firmware.rmm.inject = Injector(busy=0.3, incomplete=0.5, seed=seed)

    plain = run_machine(tmp_path, setup=None)[1]
    result, text = run_machine(tmp_path, setup=inject)
    assert result.status == 0 and text.endswith("host: all done\n")
    def realm_lines(t):
        return [line for line in t.splitlines() if line.startswith("realm: ")]
    assert realm_lines(text) == realm_lines(plain)
    def undelegated(t):
        return re.findall(r"\d+ granules back to Non-secure", t)
    assert undelegated(text) == undelegated(plain)


def rim_predicted(image):
    out = subprocess.run([sys.executable, "-m", "machine.cli", "measure", "--image", str(image)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return re.search(r"RIM \(sha256\): ([0-9a-f]{64})", out.stdout).group(1)


def in_order(text, expected):
    """Each of `expected` is a line of `text`, in this order."""
    lines = text.splitlines()
    position = 0
    for line in expected:
        assert line in lines[position:], f"missing (in order): {line!r}"
        position = lines.index(line, position) + 1


@needs_rec_entry
def test_default_host_runs_hello_then_attest():
    out = run_cli(HOST)
    assert out.returncode == 0, out.stderr
    in_order(out.stdout, [
        BANNER.strip(),
        "host: RMI_VERSION ok (requested 2.0; the RMM implements 2.0 to 2.0)",
        "host: RMI_RMM_ACTIVATE ok",
        "host: creating realm hello (2 measured pages, 1 REC)",
        "host: RMI_REALM_CREATE ok (RD 0x84202000, IPA width 40, RTT start level 1 x 2 at "
        "0x84200000, SHA-256)",
        "host: RMI_RTT_INIT_RIPAS ok ([0x80000000, 0x80200000) RIPAS RAM)",
        "host: RMI_RTT_DATA_MAP_INIT ok (2 pages at [0x80000000, 0x80002000), content measured)",
        "host: RMI_REC_CREATE ok (REC 0 at 0x84205000, runnable, 16 aux granules donated)",
        "host: RMI_REALM_ACTIVATE ok",
        "realm: hello from the realm",
        "realm: hello: RSI_VERSION status 0 lower 0x10001 higher 0x10001",
        "realm: hello: RSI_REALM_CONFIG IPA width 40 bits, hash algorithm 0",
        "host: host call from REC 0: imm 0x1234, x0 0x80000000, x1 0xcafe; answered x0 = 0x10001",
        "realm: hello: RSI_HOST_CALL status 0, host answered 0x10001",
        "host: realm hello is off (PSCI SYSTEM_OFF)",
        "host: RMI_REALM_TERMINATE ok",
        "host: RMI_REC_DESTROY ok (REC 0, 16 aux granules reclaimed)",
        "host: RMI_RTT_DESTROY ok (level 3 RTT 0x84207000)",
        "host: RMI_RTT_DESTROY ok (level 2 RTT 0x84206000)",
        "host: RMI_REALM_DESTROY ok",
        "host: realm hello destroyed",
        "host: creating realm attest (2 measured pages, 1 REC)",
        "realm: attest: MEASUREMENT_EXTEND REM0 status 0",
        "host: realm attest destroyed",
        "host: all done",
    ])
    # the RIM the realm reads back is the one `fvp-rme measure` predicts from the image
    rim = re.search(r"^realm: attest: RIM ([0-9a-f]{64})$", out.stdout, re.M).group(1)
    assert rim == rim_predicted(IMAGES / "realm" / "attest.bin")
    delegated = [int(n) for n in re.findall(r"(\d+) granules back to Non-secure", out.stdout)]
    assert len(delegated) == 2 and all(n > 20 for n in delegated)


@needs_rec_entry
def test_interactive_host_drives_each_realm_over_the_console():
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(sys.executable, ["-m", "machine.cli", "run", "--kernel",
                                           str(INTERACTIVE)], cwd=str(REPO), timeout=300,
                          encoding="utf-8", echo=False)

    transcript = []
    child.expect_exact("fvp-rme> ")
    for line in ("help", "create smp", "status", "run", "destroy", "create ripas", "run",
                 "destroy", "create isolation", "run", "destroy", "status", "poweroff"):
        child.sendline(line)                  # one line at a time: the UART FIFO is 32 bytes
        child.expect_exact("fvp-rme> " if line != "poweroff" else "host: powering off")
        transcript.append(child.before)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    text = "".join(transcript).replace("\r", "")
    in_order(text, [
        "realms: hello smp ripas attest isolation",
        "host: RMI_REC_CREATE ok (REC 1 at 0x84206000, started by PSCI CPU_ON, 16 aux granules "
        "donated)",
        "host: realm smp: active, RD 0x84202000, 2 RECs (REC 0 runnable, REC 1 not runnable), "
        "0 exits",
        "realm: smp: vCPU 0 up, starting vCPU 1",
        "host: RMI_PSCI_COMPLETE ok (CPU_ON of REC 1 from REC 0: runnable)",
        "realm: smp: CPU_ON returned 0",
        "host: RMI_REC_ENTER ok (REC 1 ran)",
        "realm: smp: vCPU 1 up, context 0x5a5a",
        "host: REC 1 is off (PSCI CPU_OFF)",
        "realm: smp: vCPU 1 reported context 0x5a5a, powering off",
        "host: RMI_REC_DESTROY ok (REC 1, 16 aux granules reclaimed)",
        "host: realm smp destroyed",
        "host: RMI_RTT_SET_RIPAS ok ([0x80003000, 0x80007000) to EMPTY, accepted)",
        "realm: ripas: IPA_STATE_GET [0x80003000, 0x80007000) EMPTY",
        "host: RMI_RTT_SET_RIPAS ok ([0x80003000, 0x80007000) to RAM, accepted)",
        "realm: ripas: IPA_STATE_GET [0x80003000, 0x80007000) RAM",
        "realm: ripas: pages written again after returning to RAM",
        "host: realm read of unprotected IPA 0x8084000000 refused: injecting an SEA",
        "realm: isolation: read of host memory through an unprotected IPA it was not given: "
        "exception ESR 0x96000010 (data abort, synchronous external abort) FAR 0x8084000000",
        "realm: isolation: read of an unmapped protected IPA (RIPAS EMPTY): exception ESR "
        "0x96000010 (data abort, synchronous external abort) FAR 0x40000000",
        "realm: isolation: execute from a RIPAS EMPTY page: exception ESR 0x86000010 "
        "(instruction abort, synchronous external abort) FAR 0x80003000",
        "realm: isolation: HVC: exception ESR 0x2000000 (undefined instruction)",
        "realm: isolation: done",
        "host: realm isolation destroyed",
        "host: RMM active, 0 granules delegated",
    ])
    assert "NOT ISOLATED" not in text
