"""gdb helper for fvp-rme: `source scripts/fvp-rme-gdb.py` in gdb-multiarch, then

    (gdb) fvp-rme-symbols              # the bundled host hypervisor (NS-EL2 threads)
    (gdb) fvp-rme-symbols hello        # ... and the hello realm (its REC threads)

The host is linked at its load address (0x8400_0000) and every realm payload at the realm
IPA where the host maps it (0x8000_0000), so their ELF files give the right addresses as they
are. Realm payloads share that IPA, so load the one whose realm you debug.
"""

import os

import gdb  # provided by gdb itself

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGES = os.path.join(os.path.dirname(HERE), "images")


class FvpRmeSymbols(gdb.Command):
    """fvp-rme-symbols [REALM]: load the bundled host's symbols, and those of realm REALM
    (hello, smp, ripas, attest, isolation)."""

    def __init__(self):
        super().__init__("fvp-rme-symbols", gdb.COMMAND_FILES)

    def invoke(self, argument, from_tty):
        host = os.path.join(IMAGES, "host", "host.elf")
        gdb.execute(f"symbol-file {host}", to_string=not from_tty)
        realm = argument.strip()
        if realm:
            path = os.path.join(IMAGES, "realm", f"{realm}.elf")
            if not os.path.exists(path):
                raise gdb.GdbError(f"no bundled realm {realm!r} ({path})")
            gdb.execute(f"add-symbol-file {path}", to_string=not from_tty)


FvpRmeSymbols()
