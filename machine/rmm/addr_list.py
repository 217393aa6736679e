"""RMI address lists: arrays of RmiAddrRangeDesc in one NS granule (TF-RMM `lib/addr_list`;
digest 4.7)."""

from .abi import (
    ADDR_BLOCK_SHIFT,
    ADDR_LIST_MAX,
    DESC_MAX_CNT,
    GRANULE_SIZE,
    desc,
    desc_fields,
)
from .granule import ns_read, ns_write


def block_size(sz):
    return 1 << ADDR_BLOCK_SHIFT[sz]


def sz_of_level(level):
    """RmiAddrBlockSize of an RTT level's block (L3 page = 0 ... L0 = 3)."""
    return 3 - level


def clip_count(list_pa, count):
    """Entries usable from `list_pa`: at most 512 and never past the end of its granule."""
    return min(count, ADDR_LIST_MAX, ADDR_LIST_MAX - (list_pa % GRANULE_SIZE) // 8)


def read_list(rmm, list_pa, count, name=None):
    """`count` descriptor words at `list_pa` (the caller has clipped `count`), or None if the
    list granule is not a tracked NS granule or the read faults. The page is checked even for
    an empty list."""
    data = ns_read(rmm, list_pa, 8 * count)
    if data is None:
        return None
    words = [int.from_bytes(data[i:i + 8], "little") for i in range(0, len(data), 8)]
    if name:
        rmm.note(name, words)
    return words


def write_list(rmm, list_pa, words):
    return ns_write(rmm, list_pa, b"".join(w.to_bytes(8, "little") for w in words))


class InputList:
    """Blocks taken one at a time from a list of descriptors (TF-RMM
    addr_list_reduce_first_block): empty descriptors are skipped."""

    def __init__(self, words):
        self.descs = [list(desc_fields(w)) for w in words]
        self.cur = 0

    def first(self):
        """(SZ, ST) of the first descriptor, which decides a map command's level."""
        _, _, sz, st = self.descs[0]
        return sz, st

    def pop(self):
        """(PA, SZ, ST) of the next block, or None when the list is exhausted."""
        while self.cur < len(self.descs) and self.descs[self.cur][1] == 0:
            self.cur += 1
        if self.cur == len(self.descs):
            return None
        d = self.descs[self.cur]
        addr, _, sz, st = d
        d[0] += block_size(sz)
        d[1] -= 1
        return addr, sz, st


class OutputList:
    """Descriptors built from freed blocks, merged with any existing descriptor they extend at
    either end (TF-RMM addr_list_add_block); at most `capacity` descriptors."""

    def __init__(self, capacity):
        self.capacity = capacity
        self.descs = []            # [base, count, sz, st]

    def add(self, pa, sz, st):
        size = block_size(sz)
        if pa % size:
            return False
        for d in self.descs:
            base, cnt, dsz, dst = d
            if dsz != sz or dst != st or cnt >= DESC_MAX_CNT:
                continue
            if pa == base - size:
                d[0], d[1] = pa, cnt + 1
                return True
            if pa == base + cnt * size:
                d[1] = cnt + 1
                return True
        if len(self.descs) >= self.capacity:
            return False
        self.descs.append([pa, 1, sz, st])
        return True

    def words(self):
        return [desc(base, cnt, sz, st) for base, cnt, sz, st in self.descs]
