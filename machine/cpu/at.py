"""The address translation instructions (AT S1E0R ... AT S12E1W, AT S1E3W): translate an
address as a given EL would and report the result in PAR_EL1 (D8.13, D24.2 PAR_EL1)."""

from .walk import READ, WRITE, WalkFault

# name -> (EL whose regime is used, access, stages: 1 or 12, honour PSTATE.PAN)
AT_OPERATIONS = {
    "s1e1r": (1, READ, 1, False), "s1e1w": (1, WRITE, 1, False),
    "s1e0r": (0, READ, 1, False), "s1e0w": (0, WRITE, 1, False),
    "s1e1rp": (1, READ, 1, True), "s1e1wp": (1, WRITE, 1, True),
    "s1e2r": (2, READ, 1, False), "s1e2w": (2, WRITE, 1, False),
    "s12e1r": (1, READ, 12, False), "s12e1w": (1, WRITE, 12, False),
    "s12e0r": (0, READ, 12, False), "s12e0w": (0, WRITE, 12, False),
    "s1e3r": (3, READ, 1, False), "s1e3w": (3, WRITE, 1, False),
}

PAR_F = 1
PAR_RES1 = 1 << 11


def AddressTranslate(core, name, va):
    """Perform AT <name>, <va>; returns the PAR_EL1 value. A stage 2 fault on a stage 1 walk
    of an AT S1E0*/S1E1* is not reported in PAR_EL1 but taken to EL2 (D8.13.1)."""
    el, acc, stages, honour_pan = AT_OPERATIONS[name]
    s = core.s
    walker = core.mmu.walker
    try:
        t = walker.stage1(va, acc, el, unprivileged=el == 0,
                          pan=s.pan if honour_pan else 0, final_stage2=stages == 12,
                          address_only=True)
    except WalkFault as fault:
        if fault.stage == 2 and fault.s1ptw and stages == 1 and s.el < 2:
            raise core.mmu.abort(va, acc, fault) from None
        return PAR_RES1 | (fault.s1ptw << 8) | ((fault.stage == 2) << 9) | (fault.fsc << 1) \
            | PAR_F
    attr, sh = walker.attrs
    ns = t.pas & 1
    nse = (t.pas >> 1) & 1 if el == 3 else 1
    return (attr << 56) | (t.pa & 0xFFFF_FFFF_F000) | (nse << 11) | (ns << 9) | (sh << 7)
