"""The A64 decode table.

Every instruction is declared with the `encoding` decorator as a 32-bit pattern written the way
the Arm ARM draws encoding diagrams, most significant bit first::

    @encoding("sf op S 100010 sh imm12:12 Rn:5 Rd:5")
    def ADD_imm(sf, op, S, sh, imm12, Rn, Rd): ...

A token of 0/1/x characters is fixed bits ('x' = either); `name` is a one-bit field and
`name:N` an N-bit field; `name=01x` is a named field whose value must match. Fields are passed to
the handler as keyword arguments; the handler returns an `Op` (see `insn`) or raises `Unallocated`.

Overlaps are resolved by specificity, never by table order: where several patterns match, the one
with strictly more fixed bits wins; two matching patterns with the same number of fixed bits are
a table error, reported when the table is built (see `check_table`).
"""

import string
from typing import NamedTuple


class Unallocated(Exception):
    """Raised by a handler at decode time: the encoding is UNALLOCATED or UNDEFINED."""


class Unimplemented(Exception):
    """Raised by a handler at decode time: a valid A64 encoding the model does not implement."""


class Op(NamedTuple):
    """A decoded instruction: Python statements with `{param}` placeholders.

    The template runs with `pc` bound to the instruction's address and the names of
    `machine.cpu.translate.ENV` in scope. A branch leaves with `return <next pc>`; other
    instructions fall through. `ends_block` marks instructions after which a translated block must
    stop (branches, exception generation, writes that change how later instructions execute).
    `branch` describes a PC-relative branch for the block translator: (condition expression
    template, offset from the instruction), the condition "True" for an unconditional one,
    and for B.cond a third element, the condition number.
    `flags` marks an instruction whose template ends with `s.nzcv = <expression>` and touches
    the flags nowhere else: the kind of arithmetic that set them ("sub", "add" or "logic") and
    the index of the result's sign bit. A translated block keeps such flags pending in locals
    and tests a following B.cond on the operands directly (translate.py).
    """

    src: str
    params: dict
    ends_block: bool
    branch: tuple | None = None
    flags: tuple | None = None


def insn(src, ends_block=False, branch=None, flags=None, **params):
    return Op(src, params, ends_block, branch, flags)


_FORMATTER = string.Formatter()


def template_params(src):
    return {name for _, name, _, _ in _FORMATTER.parse(src) if name}


class Encoding:
    __slots__ = ("name", "spec", "handler", "mask", "value", "fields")

    def __init__(self, name, spec, handler):
        self.name = name
        self.spec = spec
        self.handler = handler
        self.mask, self.value, self.fields = parse_pattern(spec)

    @property
    def fixed_bits(self):
        return bin(self.mask).count("1")

    def matches(self, word):
        return word & self.mask == self.value

    def decode(self, word):
        kwargs = {name: (word >> lo) & ((1 << width) - 1) for name, lo, width in self.fields}
        return self.handler(**kwargs)


def parse_pattern(spec):
    """Pattern text -> (mask, value, [(field, lsb, width)])."""
    mask = value = 0
    fields = []
    pos = 32
    for token in spec.split():
        name, _, rest = token.partition("=")
        if rest:  # named field with fixed value
            bits = rest
        elif set(token) <= set("01x"):
            name, bits = None, token
        else:
            name, _, width = token.partition(":")
            bits = "x" * int(width or 1)
        pos -= len(bits)
        for i, ch in enumerate(bits):
            bit = 1 << (pos + len(bits) - 1 - i)
            if ch != "x":
                mask |= bit
                if ch == "1":
                    value |= bit
        if name:
            fields.append((name, pos, len(bits)))
    if pos != 0:
        raise ValueError(f"encoding pattern is {32 - pos} bits, not 32: {spec!r}")
    return mask, value, fields


ENCODINGS = []


def encoding(spec):
    """Register the decorated handler for the encoding pattern `spec`."""

    def register(handler):
        ENCODINGS.append(Encoding(handler.__name__, spec, handler))
        return handler

    return register


BUCKET_SHIFT = 21  # buckets are indexed by bits 31:21 (2048 buckets)


class DecodeTable:
    """Patterns bucketed on the top 11 bits; within a bucket, most specific first."""

    def __init__(self, encodings):
        self.encodings = list(encodings)
        self.buckets = {}

    def bucket(self, top):
        found = self.buckets.get(top)
        if found is None:
            word = top << BUCKET_SHIFT
            hi_mask = ((1 << 32) - 1) & ~((1 << BUCKET_SHIFT) - 1)
            found = [e for e in self.encodings if (e.value ^ word) & e.mask & hi_mask == 0]
            found.sort(key=lambda e: -e.fixed_bits)
            self.buckets[top] = found
        return found

    def lookup(self, word):
        """The encoding that decodes `word`, or None if the word is unallocated."""
        candidates = [e for e in self.bucket(word >> BUCKET_SHIFT) if e.matches(word)]
        if not candidates:
            return None
        if len(candidates) > 1 and candidates[0].fixed_bits == candidates[1].fixed_bits:
            raise AssertionError(
                f"decode table: {word:#010x} matches {candidates[0].name} and "
                f"{candidates[1].name} equally")
        return candidates[0]

    def decode(self, word):
        """Decode `word` to an Op; raises Unallocated or Unimplemented."""
        enc = self.lookup(word)
        if enc is None:
            raise Unallocated(f"{word:#010x}")
        return enc.decode(word)


def check_table(encodings):
    """Patterns that can match a common word must nest: the fixed bits of one include all the
    fixed bits of the other, so the more specific pattern is a carve-out of the general one."""
    problems = []
    items = list(encodings)
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            common = a.mask & b.mask
            if (a.value ^ b.value) & common:
                continue
            if a.mask == b.mask or common not in (a.mask, b.mask):
                problems.append(f"{a.name} ({a.spec}) and {b.name} ({b.spec}) overlap")
    return problems
