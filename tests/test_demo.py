"""The main job: `fvp-rme run` with no arguments boots the bundled host hypervisor, which
creates, runs and destroys the hello and attestation realms through RMI v2.0 and powers off.
The transcript's lines come in order, every granule goes back to the host, the RIM the
attestation realm reads through RSI equals the one `fvp-rme measure` predicts for its image,
and the run is deterministic. (Tokens are verified independently in tests/rmm.)"""

import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
IMAGES = ROOT / "images"

# Lines every demo run prints, in this order (other lines may come between them).
MILESTONES = [
    "host: fvp-rme CCA host at NS-EL2; realms: hello attest",
    "host: RMI_VERSION ok (requested 2.0; the RMM implements 2.0 to 2.0)",
    "host: RMI_RMM_ACTIVATE ok",
    "host: creating realm hello (2 measured pages, 1 REC)",
    "host: RMI_REALM_ACTIVATE ok",
    "realm: hello from the realm",
    "realm: hello: RSI_VERSION status 0 lower 0x10001 higher 0x10001",
    "realm: hello: RSI_REALM_CONFIG IPA width 40 bits, hash algorithm 0",
    "realm: hello: powering off",
    "host: realm hello is off (PSCI SYSTEM_OFF)",
    "host: RMI_REALM_TERMINATE ok",
    "host: RMI_REALM_DESTROY ok",
    "host: realm hello destroyed",
    "host: creating realm attest (2 measured pages, 1 REC)",
    "realm: attest: MEASUREMENT_EXTEND REM0 status 0",
    "realm: attest: ATTESTATION_TOKEN_INIT status 0, token at most 4096 bytes",
    "host: realm attest is off (PSCI SYSTEM_OFF)",
    "host: realm attest destroyed",
    "host: all done",
]


@pytest.fixture(scope="module")
def demo():
    out = subprocess.run([sys.executable, "-m", "machine.cli", "run"], capture_output=True,
                         text=True, timeout=600)
    return out


def test_demo_runs_to_power_off(demo):
    assert demo.returncode == 0, demo.stderr
    lines = demo.stdout.splitlines()
    positions = [lines.index(line) for line in MILESTONES]
    assert positions == sorted(positions)
    assert not [line for line in lines if "failed" in line or "FAILED" in line]


def test_every_granule_goes_back_to_the_host(demo):
    delegated = sum(int(n) for n in re.findall(r"RMI_GRANULE_RANGE_UNDELEGATE ok \((\d+) "
                                               r"granules back to Non-secure\)", demo.stdout))
    assert delegated > 0
    assert demo.stdout.count("RMI_GRANULE_RANGE_UNDELEGATE ok") == 2


def test_realm_rim_equals_the_measure_tool(demo):
    rim = re.search(r"realm: attest: RIM ([0-9a-f]{64})", demo.stdout).group(1)
    measured = subprocess.run([sys.executable, "-m", "machine.cli", "measure", "--image",
                               str(IMAGES / "realm" / "attest.bin")], capture_output=True,
                              text=True, check=True).stdout
    assert measured.strip() == f"RIM (sha256): {rim}"


def test_two_runs_print_the_same_transcript(demo):
    again = subprocess.run([sys.executable, "-m", "machine.cli", "run"], capture_output=True,
                           text=True, timeout=600)
    assert again.stdout == demo.stdout
