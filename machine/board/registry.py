"""Machine plugins: definitions registered under the `fvp_rme.machines` entry-point group.

Another package adds a board without touching this one by declaring, in its setup.cfg:

    [options.entry_points]
    fvp_rme.machines =
        my-board = my_package.board:definition

where `definition()` returns a machine.board.definition.MachineDefinition.
"""

from importlib.metadata import entry_points

GROUP = "fvp_rme.machines"
DEFAULT = "fvp-base-revc"


def _builtin():
    from . import fvp

    return {DEFAULT: fvp.definition}


def available():
    """name -> callable returning the MachineDefinition, for every registered machine."""
    found = _builtin()
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.load
    return found


def lookup(name):
    machines = available()
    if name not in machines:
        raise KeyError(f"unknown machine {name!r} (known: {', '.join(sorted(machines))})")
    factory = machines[name]
    if factory.__name__ == "load":          # an EntryPoint's load(): call it first
        factory = factory()
    return factory()
