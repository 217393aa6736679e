"""README opens with exactly two commands, and CI runs the second one verbatim."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def readme_commands():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert lines[0].startswith("# ")
    body = [line for line in lines[1:] if line.strip()]
    return [line[4:] for line in body[:2]], body[2]


def test_readme_opens_with_two_commands():
    (install_run, install_test), following = readme_commands()
    assert "pip install" in install_run and install_run.endswith("fvp-rme run")
    assert "setup-tests" in install_test and install_test.endswith("python3 -m pytest -q")
    assert not following.startswith("    ")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "grep -m2 '^    ' README.md | sed -n 2p" in ci
