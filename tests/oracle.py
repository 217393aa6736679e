"""Differential testing against Unicorn (QEMU's TCG), the instruction-semantics oracle.

`Oracle` keeps one fvp-rme `Cpu` and one Unicorn instance with the same memory layout, loads
the same instructions and architectural state into both, runs both, and lists every difference
in X0-X30, SP, PC, NZCV, V0-V31, FPSR and the data region.

Both CPUs run at EL1 using SP_EL1 with the stage 1 MMU on: the code page and the data region
are identity-mapped as Normal write-back memory by page tables that the tests build (with the
MMU off, data accesses would be Device memory and every unaligned access would fault, D8.2.10).
Unicorn stops on an exception instead of taking it; the comparison then checks that fvp-rme
took the same kind of exception and that no register or memory changed.
"""

import os
import random
import struct

from unicorn import UC_ARCH_ARM64, UC_HOOK_INTR, UC_MODE_ARM, Uc, UcError
from unicorn import arm64_const as A

from machine.api import Cpu

CODE = 0x10000
CODE_SIZE = 0x1000
DATA = 0x100000
DATA_SIZE = 0x10000
TABLES = 0x180000            # three pages: level 1, 2 and 3 tables of the identity map
M64 = (1 << 64) - 1

# The identity map: T0SZ=25 (39-bit VA, walks start at level 1), 4 KB granule, inner/outer
# write-back, inner shareable, TTBR1 walks disabled (with TG1 = 4 KB: Unicorn faults every walk
# when TG1 holds the reserved value 0), 48-bit IPS.
TCR_EL1 = 25 | (1 << 8) | (1 << 10) | (3 << 12) | (1 << 23) | (0b10 << 30) | (5 << 32)
MAIR_EL1 = 0xFF                                  # Attr0: Normal, write-back
SCTLR_EL1 = 0x30D0_0980 | 1 | (1 << 2) | (1 << 12)  # RES1 bits, M, C, I
PAGE_DESC = 0b11 | (3 << 8) | (1 << 10)          # page, AttrIndx 0, EL1 RW, inner shareable, AF
TABLE_DESC = 0b11


def msr(op1, crn, crm, op2, rt):
    """MSR S3_<op1>_C<crn>_C<crm>_<op2>, X<rt>."""
    return 0xD5100000 | (1 << 19) | (op1 << 16) | (crn << 12) | (crm << 8) | (op2 << 5) | rt


ISB = 0xD5033FDF
MMU_ON = [msr(0, 2, 0, 2, 0), msr(0, 10, 2, 0, 1), msr(0, 2, 0, 0, 2), ISB,
          msr(0, 1, 0, 0, 3), ISB]


def identity_tables():
    """(address, bytes) of the level 1, 2 and 3 tables identity-mapping the first 2 MB (the
    tables themselves read-only, so no random store can change the translation)."""
    l1 = (TABLES + 0x1000) | TABLE_DESC
    l2 = (TABLES + 0x2000) | TABLE_DESC
    l3 = bytearray(0x1000)
    for page in range(0, 0x20_0000, 0x1000):
        read_only = TABLES <= page < TABLES + 0x3000
        struct.pack_into("<Q", l3, 8 * (page >> 12), page | PAGE_DESC | (read_only << 7))
    return [(TABLES, struct.pack("<Q", l1)), (TABLES + 0x1000, struct.pack("<Q", l2)),
            (TABLES + 0x2000, bytes(l3))]

# QEMU exception numbers (target/arm/cpu.h EXCP_*) -> ESR_ELx.EC of the exception fvp-rme takes
QEMU_EXCP_TO_EC = {1: 0x00, 2: 0x15, 3: 0x21, 4: 0x25, 7: 0x3C, 11: 0x16, 13: 0x17}

XREGS = [getattr(A, f"UC_ARM64_REG_X{i}") for i in range(29)] + [A.UC_ARM64_REG_X29,
                                                                  A.UC_ARM64_REG_X30]
QREGS = [getattr(A, f"UC_ARM64_REG_Q{i}") for i in range(32)]

# How many random executions each class gets, as a multiple of its count: the default makes
# the whole suite compare over 100,000 executions; FVP_RME_DEEP=N (e.g. 20) goes deeper.
DEPTH = float(os.environ.get("FVP_RME_DEEP", "1.35"))

INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000,
               0xFFFF_FFFF, 0x1_0000_0000, 0x7FFF_FFFF_FFFF_FFFF, 0x8000_0000_0000_0000, M64,
               M64 - 1]


def random_u64(rng):
    choice = rng.random()
    if choice < 0.3:
        return rng.choice(INTERESTING)
    if choice < 0.45:
        return rng.getrandbits(8)
    if choice < 0.6:
        return rng.getrandbits(32)
    return rng.getrandbits(64)


def random_v(rng):
    return (random_u64(rng) << 64) | random_u64(rng)


class State:
    """Architectural state to load into both CPUs before running."""

    def __init__(self, x=None, sp=DATA + DATA_SIZE // 2, nzcv=0, v=None, fpcr=0, fpsr=0):
        self.x = list(x) if x is not None else [0] * 31
        self.sp = sp
        self.nzcv = nzcv
        self.v = list(v) if v is not None else [0] * 32
        self.fpcr = fpcr
        self.fpsr = fpsr

    @classmethod
    def random(cls, rng, data_pointers=False):
        """Random registers; with data_pointers, X registers point into the data region (with
        some small values mixed in, for index registers)."""
        if data_pointers:
            x = [DATA + rng.randrange(DATA_SIZE // 4, 3 * DATA_SIZE // 4) if rng.random() < 0.75
                 else rng.randrange(0, 256) for _ in range(31)]
            sp = (DATA + rng.randrange(DATA_SIZE // 4, 3 * DATA_SIZE // 4)) & ~15
        else:
            x = [random_u64(rng) for _ in range(31)]
            sp = rng.getrandbits(64) & ~15 if rng.random() < 0.5 else random_u64(rng)
        return cls(x=x, sp=sp, nzcv=rng.getrandbits(4) << 28,
                   v=[random_v(rng) for _ in range(32)])


class Outcome:
    def __init__(self, x, sp, pc, nzcv, v, fpsr, data, exception_ec, far=None):
        self.x, self.sp, self.pc, self.nzcv = x, sp, pc, nzcv
        self.v, self.fpsr, self.data = v, fpsr, data
        self.exception_ec = exception_ec
        self.far = far


def unicorn_truncates_va(ours, theirs):
    """Unicorn 2.1.4 with the MMU on translates a data address as if its bits [63:32] were
    zero (LDRB from 0x81_0010_73AC loads from 0x10_73AC). The Arm ARM (D8.2, VMSAv8-64
    translation) gives a translation fault for an address the tables do not map, which is what
    fvp-rme reports: such an outcome is not a disagreement about the instruction."""
    return (ours.exception_ec == 0x25 and theirs.exception_ec is None
            and ours.far is not None and ours.far >> 32)


class Oracle:
    total = 0          # instruction executions compared in this test session (all oracles)

    def __init__(self, seed=0, cpu_model=None):
        """`cpu_model` selects Unicorn's CPU (e.g. arm64_const.UC_CPU_ARM64_MAX for features
        the default Cortex-A72 lacks)."""
        self.rng = random.Random(seed)
        self.data_image = bytes(self.rng.getrandbits(8) for _ in range(DATA_SIZE))
        self.cpu = Cpu(el=1)
        self.uc = Uc(UC_ARCH_ARM64, UC_MODE_ARM)
        if cpu_model is not None:
            self.uc.ctl_set_cpu_model(cpu_model)
        for base, size in ((CODE, CODE_SIZE), (DATA, DATA_SIZE), (TABLES, 0x3000)):
            self.cpu.map(base, size)
            self.uc.mem_map(base, size)
        for base, table in identity_tables():
            self.cpu.write(base, table)
            self.uc.mem_write(base, table)
        self._uc_excp = None
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self._mmu_on()
        self.executions = 0

    def _mmu_on(self):
        for name, value in (("tcr_el1", TCR_EL1), ("mair_el1", MAIR_EL1),
                            ("ttbr0_el1", TABLES), ("sctlr_el1", SCTLR_EL1)):
            self.cpu.set_reg(name, value)
        uc = self.uc
        for reg, value in ((A.UC_ARM64_REG_X0, TCR_EL1), (A.UC_ARM64_REG_X1, MAIR_EL1),
                           (A.UC_ARM64_REG_X2, TABLES), (A.UC_ARM64_REG_X3, SCTLR_EL1)):
            uc.reg_write(reg, value)
        uc.mem_write(CODE, struct.pack(f"<{len(MMU_ON)}I", *MMU_ON))
        uc.emu_start(CODE, CODE + 4 * len(MMU_ON))
        uc.mem_write(CODE, bytes(CODE_SIZE))

    def _on_intr(self, uc, intno, user_data):
        if self._uc_excp is None:       # the first exception (not a fault on its vector fetch)
            self._uc_excp = intno
        uc.emu_stop()

    # --- loading --------------------------------------------------------------------------------

    def _load(self, words, state):
        code = struct.pack(f"<{len(words)}I", *words)
        cpu, uc = self.cpu, self.uc
        cpu.write(CODE, code)
        uc.mem_write(CODE, code)
        cpu.write(DATA, self.data_image)
        uc.mem_write(DATA, self.data_image)
        for i in range(31):
            cpu.set_reg(f"x{i}", state.x[i])
            uc.reg_write(XREGS[i], state.x[i] & M64)
        for i in range(32):
            cpu.set_reg(f"v{i}", state.v[i])
            uc.reg_write(QREGS[i], state.v[i])
        cpu.set_reg("sp", state.sp)
        uc.reg_write(A.UC_ARM64_REG_SP, state.sp & M64)
        cpu.set_reg("nzcv", state.nzcv)
        uc.reg_write(A.UC_ARM64_REG_NZCV, state.nzcv)
        for name, reg in (("fpcr", A.UC_ARM64_REG_FPCR), ("fpsr", A.UC_ARM64_REG_FPSR)):
            cpu.set_reg(name, getattr(state, name))
            uc.reg_write(reg, getattr(state, name))
        cpu.set_reg("pc", CODE)
        uc.reg_write(A.UC_ARM64_REG_PC, CODE)

    # --- running --------------------------------------------------------------------------------

    def run(self, words, state, count=None):
        """Run `words` (placed at CODE) from `state` on both; returns (ours, theirs)."""
        if isinstance(words, int):
            words = [words]
        count = len(words) if count is None else count
        self._load(words, state)
        self.executions += count
        Oracle.total += count
        result = self.cpu.run(count=count)
        ours_ec = result.ec if result.reason == "exception" else None
        ours = self._outcome_ours(ours_ec)
        self._uc_excp = None
        uc_ec = None
        self.uc.ctl_remove_cache(CODE, CODE + CODE_SIZE)   # Unicorn may keep stale blocks
        try:
            self.uc.emu_start(CODE, CODE + 4 * len(words), count=count)
        except UcError as err:
            uc_ec = self._uc_error_ec(err)
        if self._uc_excp is not None:
            uc_ec = QEMU_EXCP_TO_EC.get(self._uc_excp, -self._uc_excp)
        theirs = self._outcome_theirs(uc_ec)
        return ours, theirs

    @staticmethod
    def _uc_error_ec(err):
        if err.errno == 10:                      # UC_ERR_INSN_INVALID
            return 0x00
        if err.errno in (6, 7, 8, 12, 13, 14):    # unmapped / protected reads, writes, fetches
            return 0x25
        if err.errno in (16, 17, 18):            # unaligned accesses
            return 0x25
        raise err

    def _outcome_ours(self, ec):
        cpu = self.cpu
        return Outcome([cpu.reg(f"x{i}") for i in range(31)], cpu.reg("sp"), cpu.reg("pc"),
                       cpu.reg("nzcv"), [cpu.reg(f"v{i}") for i in range(32)], cpu.reg("fpsr"),
                       cpu.read(DATA, DATA_SIZE), ec, cpu.reg("far_el1") if ec else None)

    def _outcome_theirs(self, ec):
        uc = self.uc
        return Outcome([uc.reg_read(r) for r in XREGS], uc.reg_read(A.UC_ARM64_REG_SP),
                       uc.reg_read(A.UC_ARM64_REG_PC), uc.reg_read(A.UC_ARM64_REG_NZCV),
                       [uc.reg_read(r) for r in QREGS], uc.reg_read(A.UC_ARM64_REG_FPSR),
                       bytes(uc.mem_read(DATA, DATA_SIZE)), ec)

    # --- comparing ------------------------------------------------------------------------------

    @staticmethod
    def differences(ours, theirs, check_fpsr=True):
        """Human-readable list of differences (empty when the outcomes agree)."""
        diffs = []
        if unicorn_truncates_va(ours, theirs):
            return diffs
        if ours.exception_ec != theirs.exception_ec:
            diffs.append(f"exception: ours EC={ours.exception_ec} unicorn EC={theirs.exception_ec}")
        for i in range(31):
            if ours.x[i] != theirs.x[i]:
                diffs.append(f"x{i}: ours {ours.x[i]:#x} unicorn {theirs.x[i]:#x}")
        if ours.sp != theirs.sp:
            diffs.append(f"sp: ours {ours.sp:#x} unicorn {theirs.sp:#x}")
        if ours.exception_ec is None and theirs.exception_ec is None and ours.pc != theirs.pc:
            diffs.append(f"pc: ours {ours.pc:#x} unicorn {theirs.pc:#x}")
        if ours.nzcv != theirs.nzcv:
            diffs.append(f"nzcv: ours {ours.nzcv:#x} unicorn {theirs.nzcv:#x}")
        for i in range(32):
            if ours.v[i] != theirs.v[i]:
                diffs.append(f"v{i}: ours {ours.v[i]:#034x} unicorn {theirs.v[i]:#034x}")
        if check_fpsr and ours.fpsr != theirs.fpsr:
            diffs.append(f"fpsr: ours {ours.fpsr:#x} unicorn {theirs.fpsr:#x}")
        if ours.data != theirs.data:
            first = next(i for i in range(DATA_SIZE) if ours.data[i] != theirs.data[i])
            diffs.append(f"memory differs first at {DATA + first:#x}: ours "
                         f"{ours.data[first:first + 8].hex()} unicorn "
                         f"{theirs.data[first:first + 8].hex()}")
        return diffs

    def check(self, words, state, count=None, check_fpsr=True):
        """Run and return the differences, each prefixed with the instruction words."""
        ours, theirs = self.run(words, state, count)
        diffs = self.differences(ours, theirs, check_fpsr)
        if isinstance(words, int):
            words = [words]
        tag = " ".join(f"{w:#010x}" for w in words)
        return [f"[{tag}] {d}" for d in diffs]


def random_word(rng, pattern):
    """A random 32-bit word matching a pattern of 0/1/x characters (spaces ignored)."""
    bits = pattern.replace(" ", "")
    assert len(bits) == 32, pattern
    word = 0
    for ch in bits:
        word = (word << 1) | (rng.getrandbits(1) if ch == "x" else int(ch))
    return word


def fuzz_class(oracle, rng, patterns, n, state_fn=None, check_fpsr=True, skip=None):
    """Execute `n` random encodings drawn from `patterns` (0/1/x strings) with random state;
    returns the list of differences (at most 20 kept). `skip(word)` excludes encodings with
    a documented reason to differ (the caller cites the Arm ARM rule)."""
    problems = []
    n = int(n * DEPTH)
    done = 0
    while done < n:
        word = random_word(rng, rng.choice(patterns))
        if skip is not None and skip(word):
            continue
        state = state_fn(rng) if state_fn else State.random(rng)
        problems += oracle.check(word, state, check_fpsr=check_fpsr)
        done += 1
        if len(problems) > 20:
            break
    return problems
