"""machine.bench: each workload runs to its final BRK with the same instruction count and
result as on Unicorn (counted independently, with a code hook); images/bench matches its
SHA256SUMS and is what stubs/bench rebuilds; the table and JSON output."""

import hashlib
import json
import subprocess
import sys

import pytest

from machine import bench

STUBS = bench.REPO / "stubs" / "bench"
BENCH_IMAGES = bench.IMAGES / "bench"


@pytest.mark.parametrize("name", bench.WORKLOADS)
def test_workload_count_matches_unicorn(name):
    ours = bench.run_ours(name)
    tier1 = bench.run_ours(name, blocks=False)
    theirs = bench.run_unicorn(name)
    assert ours["instructions"] == tier1["instructions"] == theirs["instructions"]
    assert ours["checksum"] == tier1["checksum"] == theirs["checksum"]
    assert 1_000_000 < ours["instructions"] < 10_000_000
    assert ours["mips"] > 0


def sha256sums(directory):
    lines = (directory / "SHA256SUMS").read_text().splitlines()
    return dict(reversed(line.split("  ", 1)) for line in lines)


def test_images_match_sha256sums():
    sums = sha256sums(BENCH_IMAGES)
    assert sorted(sums) == sorted(path.name for path in bench.WORKLOADS.values())
    for name, digest in sums.items():
        assert hashlib.sha256((BENCH_IMAGES / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.cross
def test_rebuild_reproduces_images(tmp_path):
    done = subprocess.run(["make", "-C", str(STUBS), f"OUT={tmp_path}", "--no-print-directory"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "SHA256SUMS").read_text() == (BENCH_IMAGES / "SHA256SUMS").read_text()
    for path in bench.WORKLOADS.values():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


FAKE = {"instructions": 6_000_000, "seconds": 2.0, "mips": 3.0, "checksum": "0x" + "0" * 16}


def test_results_without_unicorn(monkeypatch):
    monkeypatch.setattr(bench, "run_ours", lambda name, blocks=True: dict(FAKE))
    monkeypatch.setitem(sys.modules, "unicorn", None)        # import unicorn fails
    assert bench.run_unicorn("intloop") is None
    results = bench.run_all(["intloop", "memcopy"])
    assert [r["workload"] for r in results] == ["intloop", "memcopy"]
    assert results[0]["unicorn"] is None and results[0]["ratio"] is None
    commit = results[0]["commit"]
    assert commit == "unknown" or len(commit) == 40
    table = bench.format_table(results)
    assert table.splitlines()[0].split() == ["workload", "instructions", "seconds", "MIPS",
                                             "tier-1", "MIPS", "Unicorn", "MIPS", "ratio"]
    assert "unicorn not installed" in table.splitlines()[1]
    assert "6,000,000" in table and commit in table
    assert json.loads(json.dumps(results)) == results


def test_ratio_and_table_with_unicorn(monkeypatch):
    monkeypatch.setattr(bench, "run_ours",
                        lambda name, blocks=True: dict(FAKE, mips=3.0 if blocks else 1.5))
    monkeypatch.setattr(bench, "run_unicorn", lambda name: dict(FAKE, seconds=0.02, mips=300.0))
    result, = bench.run_all(["sort_crc"])
    assert result["ratio"] == 100.0
    assert bench.format_table([result]).splitlines()[1].split() == [
        "sort_crc", "6,000,000", "2.000", "3.00", "1.50", "300.0", "100.0x"]


def test_unknown_workload():
    with pytest.raises(KeyError, match="unknown workload 'nope'"):
        bench.run_ours("nope")
    with pytest.raises(KeyError, match="unknown workload 'nope'"):
        bench.run_all(["intloop", "nope"])
