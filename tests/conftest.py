import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

TOOLS = {"gdb": "gdb-multiarch", "cross": "aarch64-linux-gnu-gcc"}


def pytest_runtest_setup(item):
    """Tests marked gdb/cross need gdb-multiarch / the aarch64 cross toolchain. CI installs both,
    so there a missing tool fails the test; elsewhere it is skipped (listed by -ra)."""
    for marker, tool in TOOLS.items():
        if marker in item.keywords and shutil.which(tool) is None:
            if os.environ.get("CI"):
                pytest.fail(f"CI must install {tool}")
            pytest.skip(f"needs {tool}")


def pytest_terminal_summary(terminalreporter):
    """Say how many instruction executions were compared against Unicorn."""
    oracle = sys.modules.get("oracle")
    if oracle is not None and oracle.Oracle.total:
        terminalreporter.write_line(
            f"Unicorn differential testing: {oracle.Oracle.total:,} instruction executions "
            "compared")
