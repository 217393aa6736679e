"""Turning decoded `Op` templates into Python code.

Tier 1: one closure per instruction. The template is compiled once per distinct template text
into a factory whose parameters are the template's placeholders; each decoded instruction then
costs one factory call that binds its field values.

Names visible to every template:
- ENV: the CPU state `s`, its register lists `X` (see state.py) and `V`, the MMU `M` and its
  fast accessors rd8..rd128 / wr8..wr128 and, for pairs, rd32x2/rd64x2 / wr32x2/wr64x2, and
  the `get` of its read and write soft TLBs (rtlb_get, wtlb_get: see isa/ldst.py);
- RUNTIME: the pseudocode helpers and exception classes that ISA modules register with
  `runtime`.
"""

import bisect
import re
import textwrap

from . import bits, exceptions
from .bits import COND_MASK
from .decode import template_params
from .state import ZR_WRITE

ENV = ("s", "X", "V", "M", "rd8", "rd16", "rd32", "rd64", "rd128",
       "wr8", "wr16", "wr32", "wr64", "wr128", "rd32x2", "rd64x2", "wr32x2", "wr64x2",
       "rtlb_get", "wtlb_get")

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
            mmu.wr8, mmu.wr16, mmu.wr32, mmu.wr64, mmu.wr128, mmu.rd32x2, mmu.rd64x2,
            mmu.wr32x2, mmu.wr64x2, mmu.rtlb.get, mmu.wtlb.get)


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
            if tb.tb_frame.f_code == self.code:     # equal code: an identical block
                return bisect.bisect_right(self.first_lines, tb.tb_lineno) - 1
            tb = tb.tb_next
        raise AssertionError("exception did not pass through this block")


_REG = re.compile(r"\bX\[(\d+)\]")
_RETURN = re.compile(r"(?<![\w.])return\b")
# A template touching the CPU state other than through X[<constant>] and s.nzcv (a helper
# given `s` or `X`, an ERET, an MSR) sees the register list itself: cached registers are
# written back before it and reloaded after it.
_OPAQUE = re.compile(r"\bX\b(?!\[\d)|\bs\b(?!\.nzcv\b)")


def _values(decoded, constants):
    """The template parameters of `decoded` as text: decode-time values as literals, others
    bound to block constants."""
    values = {}
    for name, value in decoded.params.items():
        if isinstance(value, _LITERAL_TYPES):
            values[name] = _literal(value)
        else:
            key = f"_k{len(constants)}"
            constants[key] = value
            values[name] = key
    return values


def _instantiate(decoded, index, constants):
    """The template text of `decoded` as instruction `index` of a block, with `pc` as the
    block's pc plus the offset."""
    body = decoded.src.format(**_values(decoded, constants))
    return _PC.sub(f"(pc + {4 * index})", body) if index else body


class _Registers:
    """X registers held in locals (x_<n>) inside a block; the write sink X[33] (state.py) is a
    local that is never loaded or stored."""

    def __init__(self, bodies):
        self.regs = sorted({int(n) for body in bodies if not _OPAQUE.search(body)
                            for n in _REG.findall(body)} - {ZR_WRITE})

    def load(self):
        return [f"x_{r} = X[{r}]" for r in self.regs]

    def store(self):
        return "; ".join(f"X[{r}] = x_{r}" for r in self.regs)

    def rename(self, body):
        body = _REG.sub(lambda m: f"x_{m.group(1)}" if int(m.group(1)) in self.regs or
                        int(m.group(1)) == ZR_WRITE else m.group(0), body)
        store = self.store()
        return _RETURN.sub(f"{store}; return", body) if store else body


class _Flags:
    """NZCV pending in locals (decode.Op.flags): a flag-setting instruction's operands and
    result stay in renamed temporaries, and `s.nzcv` is stored only before an instruction that
    may read it, raise or leave the block. A B.cond tests the operands directly."""

    # Conditions (C1.2.4 ConditionHolds) after SUBS/CMP on clean operands x, y and result r.
    SUB = {0: "{r} == 0", 1: "{r} != 0", 2: "{x} >= {y}", 3: "{x} < {y}", 4: "{r} >> {top}",
           5: "not {r} >> {top}", 8: "{x} > {y}", 9: "{x} <= {y}",
           10: "{x} ^ {sign} >= {y} ^ {sign}", 11: "{x} ^ {sign} < {y} ^ {sign}",
           12: "{x} ^ {sign} > {y} ^ {sign}", 13: "{x} ^ {sign} <= {y} ^ {sign}"}
    # ... and after ANDS/TST: C = V = 0.
    LOGIC = {0: "{r} == 0", 1: "{r} != 0", 2: "False", 3: "True", 4: "{r} >> {top}",
             5: "not {r} >> {top}", 6: "False", 7: "True", 8: "False", 9: "True",
             10: "not {r} >> {top}", 11: "{r} >> {top}", 12: "0 < {r} < {sign}",
             13: "not 0 < {r} < {sign}"}
    CONDITIONS = {"sub": SUB, "logic": LOGIC}
    _TEMP = re.compile(r"(?<![\w.])_([xyur])\b")
    _BARRIER = re.compile(r"\bs\.nzcv\b|[A-Za-z_]\w*\(|\braise\b|\breturn\b")

    def __init__(self):
        self.pending = None          # (expression, kind, top, suffix)

    @classmethod
    def barrier(cls, body):
        """Whether `body` may read the flags, raise or leave: they must be in s.nzcv first."""
        return bool(_OPAQUE.search(body) or cls._BARRIER.search(body))

    @classmethod
    def sets(cls, decoded, body):
        """Whether `decoded` (instantiated as `body`) only sets the flags, in its last line."""
        lines = body.splitlines()
        return bool(decoded.flags) and lines[-1].startswith("s.nzcv = ") and \
            not cls.barrier("\n".join(lines[:-1]))

    def take(self, decoded, body, index):
        """The body of flag-setting `decoded` with its flags left pending, or None when it is
        not such an instruction."""
        if not self.sets(decoded, body):
            return None
        renamed = self._TEMP.sub(rf"_\g<1>{index}", body).splitlines()
        self.pending = (renamed[-1][len("s.nzcv = "):], *decoded.flags, index)
        return "\n".join(renamed[:-1]) or "pass"

    def store(self):
        """The statements putting pending flags in s.nzcv (none pending: nothing)."""
        if self.pending is None:
            return []
        expression = self.pending[0]
        self.pending = None
        return [f"s.nzcv = {expression}"]

    def condition(self, cond, test):
        """The test of B.cond `cond` (whose template tests `test`) on the pending flags."""
        if self.pending is None:
            return test
        expression, kind, top, i = self.pending
        form = self.CONDITIONS.get(kind, {}).get(cond)
        if form is None:
            return f"{COND_MASK[cond]} >> ({expression}) & 1"
        return form.format(x=f"_x{i}", y=f"_y{i}", r=f"_r{i}", top=top, sign=1 << top)


def _self_loop(ops):
    """A block whose last instruction branches back to its first runs as a Python loop."""
    branch = ops[-1].branch
    return len(ops) > 1 and branch is not None and branch[1] == -4 * (len(ops) - 1)


def _carries_flags(ops, bodies):
    """Whether flags pending at the end of a looping block's body may stay pending into the
    next iteration: nothing before its first flag setter needs them in s.nzcv."""
    for decoded, body in zip(ops, bodies, strict=True):
        if _Flags.sets(decoded, body):
            return True
        if _Flags.barrier(body):
            return False
    return False


def compile_block(ops, env, max_insns=64):
    """Compile decoded Ops (consecutive instructions from the first one's address) into a Block.

    The block adds its length minus one to `s.block_extra` on entry (the run loop counts the
    dispatch itself) and leaves through the last instruction's return, or falls through to the
    next address. A block that branches back to its start loops inside the function, up to
    `max_insns` instructions per call, counting the extra iterations on the way out.
    Registers the block uses are held in locals; they are written back on every exit,
    including exceptions (when `_live` says the locals are the current values). Flags are
    kept pending as _Flags describes."""
    constants = {}
    n = len(ops)
    iterations = max_insns // n if _self_loop(ops) else 1
    loop = iterations >= 2
    bodies = [_instantiate(decoded, i, constants) for i, decoded in enumerate(ops)]
    branch = ops[-1].branch
    test = branch[0].format(**_values(ops[-1], constants)) if branch else None
    carry = loop and _carries_flags(ops[:-1], bodies[:-1])
    regs = _Registers(bodies[:-1] + ([f"if {test}: pass"] if loop else bodies[-1:]))
    store = regs.store()
    flags = _Flags()
    indent = "        " if loop else "    "
    lines = [f"s.block_extra += {n - 1}", *regs.load(), "_live = 1", "_i = 0", "try:"]
    if loop:
        lines.append(f"    for _i in range({iterations}):")
    first_lines = []
    for i, (decoded, body) in enumerate(zip(ops, bodies, strict=True)):
        last = i == n - 1
        pending = flags.take(decoded, body, i) if not last else None
        pre = []
        if pending is not None:
            body = pending
        elif last:
            fused = flags.condition(branch[2], test) if branch and len(branch) > 2 else test
            pre = [] if loop and carry else flags.store()
            if loop:
                body = f"if not ({fused}): break"
            elif fused != test:
                body = body.replace(test, fused, 1)
        elif _Flags.barrier(body):
            pre = flags.store()
        opaque = bool(_OPAQUE.search(body))
        lines += [indent + line for line in regs.rename("\n".join(pre)).splitlines()]
        if opaque and store:
            lines += [f"{indent}{store}", f"{indent}_live = 0"]
        first_lines.append(len(lines) + 3)          # +2 header lines, 1-based line numbers
        text = body if opaque else regs.rename(body)
        lines.extend(indent + line for line in text.splitlines())
        if opaque and store:
            lines += [indent + line for line in regs.load()] + [f"{indent}_live = 1"]
    exit_flags = flags.store()
    if loop:        # every iteration branched back: call again from the start
        lines += ["    else:", *("        " + line for line in regs.rename("\n".join(
            exit_flags)).splitlines()), f"        {store}; return pc" if store else
            "        return pc"]
    lines += ["    " + line for line in regs.rename("\n".join(exit_flags)).splitlines()]
    lines.append(f"    {store}" if store else "    pass")
    lines.append("except BaseException:")
    lines.append(f"    if _live: {store}" if store else "    pass")
    lines.append("    raise")
    if loop:
        lines.append(f"finally:\n    s.block_extra += {n} * _i")
    lines.append(f"return pc + {4 * n}")
    names = ", ".join(ENV + tuple(constants))
    body = "\n".join("    " + line for line in "\n".join(lines).splitlines())
    code = f"def factory({names}):\n  def block(pc):\n{body}\n  return block\n"
    namespace = {}
    exec(compile(code, "<block>", "exec"), RUNTIME, namespace)
    fn = namespace["factory"](*env, *constants.values())
    return Block(fn, n, first_lines)
