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

import bisect
import re
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


# --- tier 2: translated blocks ------------------------------------------------------------------

_PC = re.compile(r"(?<![\w.])pc\b")
_LITERAL_TYPES = (int, bool, str, type(None))


def _literal(value):
    text = repr(value)
    return f"({text})" if isinstance(value, int) and value < 0 else text


class Block:
    """A straight-line run of instructions in one page compiled into one Python function.

    `fn(pc) -> next pc` executes them all; `line_index` maps a source line of the function to
    the index of the instruction it belongs to, so that an exception raised inside the block
    can be attributed to its instruction (see `faulting_index`).
    """

    __slots__ = ("fn", "length", "first_lines", "code")

    def __init__(self, fn, length, first_lines):
        self.fn = fn
        self.length = length
        self.first_lines = first_lines
        self.code = fn.__code__

    def faulting_index(self, tb):
        """Index of the instruction that raised, given the exception's traceback."""
        while tb is not None:
            if tb.tb_frame.f_code is self.code:
                return bisect.bisect_right(self.first_lines, tb.tb_lineno) - 1
            tb = tb.tb_next
        raise AssertionError("exception did not pass through this block")


def compile_block(ops, env):
    """Compile decoded Ops (consecutive instructions from the first one's address) into a Block.

    The block adds its length minus one to `s.block_extra` on entry (the run loop counts the
    dispatch itself) and leaves through the last instruction's return, or falls through to the
    next address."""
    constants = {}
    lines = [f"    s.block_extra += {len(ops) - 1}"]
    first_lines = []
    for i, decoded in enumerate(ops):
        values = {}
        for name, value in decoded.params.items():
            if isinstance(value, _LITERAL_TYPES):
                values[name] = _literal(value)
            else:
                key = f"_k{len(constants)}"
                constants[key] = value
                values[name] = key
        body = decoded.src.format(**values)
        if i:
            body = _PC.sub(f"(pc + {4 * i})", body)
        first_lines.append(len(lines) + 3)          # +2 header lines, 1-based line numbers
        lines.extend("    " + line for line in body.splitlines())
    lines.append(f"    return pc + {4 * len(ops)}")
    names = ", ".join(ENV + tuple(constants))
    code = (f"def factory({names}):\n"
            f"  def block(pc):\n" + "\n".join("  " + line for line in lines) + "\n"
            "  return block\n")
    namespace = {}
    exec(compile(code, "<block>", "exec"), RUNTIME, namespace)
    fn = namespace["factory"](*env, *constants.values())
    return Block(fn, len(ops), first_lines)
