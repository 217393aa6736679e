"""PrimeCell identification registers (PeriphID0-3 at 0xFE0-0xFEC, CellID0-3 at 0xFF0-0xFFC),
which Linux's AMBA bus reads before binding a driver."""

CELL_ID = (0x0D, 0xF0, 0x05, 0xB1)


def id_registers(periph_id):
    """Offset -> byte for a 32-bit PeriphID (ID0 = bits 7:0) and the PrimeCell CellID."""
    regs = {0xFE0 + 4 * i: (periph_id >> (8 * i)) & 0xFF for i in range(4)}
    regs.update({0xFF0 + 4 * i: byte for i, byte in enumerate(CELL_ID)})
    return regs
