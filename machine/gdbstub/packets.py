"""GDB remote serial protocol framing: `$data#cc` packets, `+`/`-` acknowledgements, the
interrupt byte, `}` escapes and `*` run-length encoding, and strict hex parsing.

`PacketReader` is an incremental parser: feed it whatever the socket returned and it yields
events; it never raises on malformed input (a bad checksum, an over-long packet, junk between
packets), it reports them so that the server can NAK or ignore them.
"""

import re

# Largest packet we accept or send (the PacketSize advertised in qSupported, in bytes of
# packet data between '$' and '#').
PACKET_SIZE = 0x4000
# Raw bytes allowed between '$' and '#' before a packet is dropped (escapes can double the
# size of binary data).
MAX_RAW = 2 * PACKET_SIZE + 64

INTERRUPT = 0x03
ESCAPE = 0x7D          # '}'
RLE = 0x2A             # '*'
_SPECIAL = frozenset(b"$#}*")

# Events returned by PacketReader.feed
PACKET, BAD, ACK, NAK, INTERRUPT_EVENT = "packet", "bad", "ack", "nak", "interrupt"

_HEX_RE = re.compile(rb"[0-9a-fA-F]+\Z")


def checksum(data):
    return sum(data) & 0xFF


def escape(data):
    """Binary data with '$', '#', '}' and '*' escaped as '}' + (byte ^ 0x20)."""
    if not any(b in _SPECIAL for b in data):
        return bytes(data)
    out = bytearray()
    for b in data:
        if b in _SPECIAL:
            out.append(ESCAPE)
            out.append(b ^ 0x20)
        else:
            out.append(b)
    return bytes(out)


def decode(raw):
    """Undo '}' escapes and '*' run-length encoding in received packet data. A trailing
    '}' is dropped; a '*' with nothing to repeat is kept as data."""
    if ESCAPE not in raw and RLE not in raw:
        return bytes(raw)
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        b = raw[i]
        if b == ESCAPE:
            if i + 1 < n:
                out.append(raw[i + 1] ^ 0x20)
            i += 2
        elif b == RLE and out and i + 1 < n and raw[i + 1] >= 29:
            out += out[-1:] * (raw[i + 1] - 29)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def frame(payload):
    """The packet `$payload#cc` (payload already escaped where it must be)."""
    return b"$" + payload + b"#" + b"%02x" % checksum(payload)


class PacketReader:
    """Incremental parser of the byte stream from gdb.

    `feed(data)` returns a list of (event, payload) where event is PACKET (payload: the
    decoded packet data), BAD (a packet with a bad checksum or too long: NAK it), ACK, NAK,
    or INTERRUPT_EVENT (a 0x03 byte outside a packet). Anything else between packets is
    ignored.
    """

    def __init__(self):
        self._buf = bytearray()
        self._state = "idle"      # idle | data | sum1 | sum2 | skip
        self._sum = bytearray()

    def feed(self, data):
        events = []
        for b in data:
            state = self._state
            if state == "data":
                if b == 0x23:                       # '#'
                    self._state = "sum1"
                elif b == 0x24:                     # '$': a new packet restarts framing
                    self._buf.clear()
                elif len(self._buf) >= MAX_RAW:
                    self._buf.clear()
                    self._state = "skip"
                    events.append((BAD, b""))
                else:
                    self._buf.append(b)
            elif state in ("sum1", "sum2"):
                self._sum.append(b)
                if state == "sum1":
                    self._state = "sum2"
                    continue
                self._state = "idle"
                raw, digits = bytes(self._buf), bytes(self._sum)
                self._buf.clear()
                self._sum.clear()
                if _HEX_RE.match(digits) and int(digits, 16) == checksum(raw):
                    events.append((PACKET, decode(raw)))
                else:
                    events.append((BAD, raw))
            elif state == "skip":                   # dropping an over-long packet
                if b == 0x23:
                    self._state = "sum1_skip"
                elif b == 0x24:
                    self._buf.clear()
                    self._state = "data"
            elif state == "sum1_skip":
                self._state = "sum2_skip"
            elif state == "sum2_skip":
                self._state = "idle"
            else:                                   # idle
                if b == 0x24:
                    self._buf.clear()
                    self._state = "data"
                elif b == 0x2B:
                    events.append((ACK, b""))
                elif b == 0x2D:
                    events.append((NAK, b""))
                elif b == INTERRUPT:
                    events.append((INTERRUPT_EVENT, b""))
        return events


# --- argument parsing ----------------------------------------------------------------------------

class PacketError(Exception):
    """A malformed packet: the server answers with an error reply."""


def parse_hex(text, max_digits=16):
    """A non-empty string of hex digits (bytes or str) as an int; no sign, prefix or spaces."""
    if isinstance(text, str):
        text = text.encode("latin-1")
    if not text or len(text) > max_digits or not _HEX_RE.match(text):
        raise PacketError(f"bad hex number {text[:20]!r}")
    return int(text, 16)


def parse_hex_bytes(text):
    """Hex-encoded data (bytes or str) as bytes."""
    if isinstance(text, str):
        text = text.encode("latin-1")
    if len(text) % 2 or (text and not _HEX_RE.match(text)):
        raise PacketError("bad hex data")
    return bytes.fromhex(text.decode("ascii"))


def hexlify(data):
    return data.hex().encode("ascii")


def parse_thread_id(text):
    """A thread-id: hex number, '-1' (all threads) or '0' (any thread), optionally in the
    multiprocess form 'p<pid>.<tid>' (the pid is ignored; 'pN' alone means all of N)."""
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    if text.startswith("p"):
        _, dot, tid = text[1:].partition(".")
        if not dot:
            return -1
        text = tid
    if text == "-1":
        return -1
    return parse_hex(text)
