"""Arm PrimeCell UART (PL011), as its TRM (DDI 0183) describes it to software.

Transmission is instantaneous: a byte written to UARTDR goes to the output backend at once, so
the transmit FIFO always reads empty and never busy. Received bytes queue in a 32-entry FIFO
fed by the input backend. UARTRIS/UARTMIS/UARTIMSC/UARTICR drive the interrupt line.
"""

from collections import deque

from .base import Device
from .primecell import id_registers

# Register offsets (TRM 3.2)
DR, RSR_ECR, FR, ILPR, IBRD, FBRD, LCR_H, CR, IFLS, IMSC, RIS, MIS, ICR, DMACR = (
    0x000, 0x004, 0x018, 0x020, 0x024, 0x028, 0x02C, 0x030, 0x034, 0x038, 0x03C, 0x040,
    0x044, 0x048)

# UARTFR bits
FR_TXFE, FR_RXFF, FR_TXFF, FR_RXFE, FR_BUSY = 1 << 7, 1 << 6, 1 << 5, 1 << 4, 1 << 3
# Interrupt bits (RIS/MIS/IMSC/ICR)
INT_RX, INT_TX, INT_RT = 1 << 4, 1 << 5, 1 << 6
INT_ALL = 0x7FF
# UARTCR bits
CR_UARTEN, CR_TXE, CR_RXE = 1 << 0, 1 << 8, 1 << 9

FIFO_DEPTH = 32
ID_REGISTERS = id_registers(0x0034_1011)     # UARTPeriphID0-3 for r1p5


class Pl011(Device):
    name = "pl011"

    def __init__(self, output=None, irq=None):
        super().__init__()
        self.output = output or (lambda data: None)   # callable(bytes)
        self.irq = irq                                 # InterruptLine or None
        self.reset()

    def reset(self):
        self.rx = deque()
        self.regs = {IBRD: 0, FBRD: 0, LCR_H: 0, CR: 0x300, IFLS: 0x12, IMSC: 0, DMACR: 0,
                     ILPR: 0}
        self.ris = 0
        self._update()

    # --- backends -------------------------------------------------------------------------------

    def receive(self, data):
        """Bytes arriving on the receive line (from the input backend)."""
        for byte in data:
            if len(self.rx) < FIFO_DEPTH:
                self.rx.append(byte)
        if self.rx:
            self.ris |= INT_RX | INT_RT
        self._update()

    def rx_space(self):
        return FIFO_DEPTH - len(self.rx)

    # --- registers ------------------------------------------------------------------------------

    def read(self, offset, size):
        if offset == DR:
            return self._read_dr()
        if offset == FR:
            flags = FR_TXFE | (FR_RXFE if not self.rx else 0)
            if len(self.rx) >= FIFO_DEPTH:
                flags |= FR_RXFF
            return flags
        if offset == RIS:
            return self.ris
        if offset == MIS:
            return self.ris & self.regs[IMSC]
        if offset in self.regs:
            return self.regs[offset]
        return ID_REGISTERS.get(offset & ~3 if size < 4 else offset, 0)

    def _read_dr(self):
        if not self.rx:
            return 0
        byte = self.rx.popleft()
        if not self.rx:
            self.ris &= ~(INT_RX | INT_RT)
        self._update()
        return byte

    def write(self, offset, size, value):
        if offset == DR:
            self.output(bytes([value & 0xFF]))
            self.ris |= INT_TX          # the (empty) transmit FIFO is below its trigger level
        elif offset == ICR:
            self.ris &= ~value
        elif offset == RSR_ECR:
            pass                        # clears the (never set) error flags
        elif offset == IMSC:
            self.regs[IMSC] = value & INT_ALL
        elif offset in self.regs:
            self.regs[offset] = value & 0xFFFF
        self._update()

    def _update(self):
        if self.irq is not None:
            self.irq.set(self.ris & self.regs[IMSC])
