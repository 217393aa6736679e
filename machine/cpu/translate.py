"""Turning decoded `Op` templates into Python code.

Tier 1: one closure per instruction. The template is compiled once per distinct template text
into a factory whose parameters are the template's placeholders; each decoded instruction then
costs one factory call that binds its field values.

Names visible to every template:
- ENV: the CPU state `s`, its register lists `X` (see state.py) and `V`, the MMU `M` and its
  fast accessors rd8..rd128 / wr8..wr128;
- RUNTIME: the pseudocode helpers and exception classes that ISA modules register with
  `runtime`.
"""

import textwrap

from . import bits, exceptions
from .decode import template_params

ENV = ("s", "X", "V", "M", "rd8", "rd16", "rd32", "rd64", "rd128",
       "wr8", "wr16", "wr32", "wr64", "wr128")

RUNTIME = {name: getattr(bits, name) for name in dir(bits) if not name.startswith("_")}
RUNTIME.update({name: getattr(exceptions, name) for name in dir(exceptions)
                if not name.startswith("_")})


def runtime(obj):
    """Make a helper function callable by name from instruction templates."""
    name = obj.__name__
    if RUNTIME.get(name, obj) is not obj:
        raise ValueError(f"runtime helper {name} defined twice")
    RUNTIME[name] = obj
    return obj


def env_of(s, mmu):
    return (s, s.x, s.v, mmu, mmu.rd8, mmu.rd16, mmu.rd32, mmu.rd64, mmu.rd128,
            mmu.wr8, mmu.wr16, mmu.wr32, mmu.wr64, mmu.wr128)


_FACTORIES = {}


def _factory(src):
    fac = _FACTORIES.get(src)
    if fac is None:
        names = sorted(template_params(src))
        body = src.format(**{n: n for n in names})
        params = ", ".join(ENV + tuple(names))
        code = (f"def factory({params}):\n"
                f"    def insn(pc):\n{textwrap.indent(body, ' ' * 8)}\n"
                f"        return pc + 4\n"
                f"    return insn\n")
        namespace = {}
        exec(compile(code, f"<template {src[:40]!r}>", "exec"), RUNTIME, namespace)
        fac = _FACTORIES[src] = namespace["factory"]
    return fac


def closure(op, env):
    """The tier-1 closure `insn(pc) -> next pc` for a decoded Op."""
    return _factory(op.src)(*env, **op.params)
