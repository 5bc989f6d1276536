"""A minimal writer of MS-CFB version 3 compound files (the container of ``vbaProject.bin``).

olefile reads compound files but rewrites a stream only at its old size; giving a VBA module new source
changes its size, so the container is written anew from its streams. This writes exactly what MS-CFB
requires and nothing more: 512-byte sectors, the mini stream for streams under 4096 bytes, a FAT without
DIFAT sectors (up to 109 FAT sectors, ~7 MB: ample for a VBA project), and directory siblings as a
red-black tree ordered as the specification orders names.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

SECTOR = 512
MINI = 64
CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Node:
    name: str
    data: bytes | None = None  # None: a storage
    children: list[Node] = field(default_factory=list)


def _key(name: str) -> tuple[int, str]:
    """Sibling order (2.6.4): shorter names first, then by upper-cased UTF-16 code units."""
    return len(name.encode("utf-16-le")), name.upper()


def tree(streams: dict[tuple[str, ...], bytes]) -> Node:
    """A storage tree from ``{("VBA", "dir"): b"…", ("PROJECT",): b"…"}``."""
    root = Node("Root Entry")
    for path, data in streams.items():
        node = root
        for part in path[:-1]:
            node = next((c for c in node.children if c.name.upper() == part.upper() and c.data is None), None) \
                or _add(node, Node(part))
        _add(node, Node(path[-1], data))
    return root


def _add(parent: Node, child: Node) -> Node:
    if any(c.name.upper() == child.name.upper() for c in parent.children):
        raise ValueError(f"two entries named {child.name!r} in one storage (names compare without case)")
    parent.children.append(child)
    return child


def _chain(fat: list[int], start: int, count: int) -> None:
    for i in range(count):
        fat[start + i] = start + i + 1 if i < count - 1 else ENDOFCHAIN


def write(root: Node) -> bytes:
    nodes: list[Node] = []

    def flatten(node: Node) -> None:
        nodes.append(node)
        for child in sorted(node.children, key=lambda n: _key(n.name)):
            flatten(child)

    flatten(root)
    index = {id(n): i for i, n in enumerate(nodes)}

    # Mini stream: every small stream, in 64-byte mini sectors.
    mini_data = bytearray()
    mini_fat: list[int] = []
    starts: dict[int, int] = {}
    for n in nodes[1:]:
        if n.data is not None and 0 < len(n.data) < CUTOFF:
            count = -(-len(n.data) // MINI)
            starts[id(n)] = len(mini_fat)
            mini_fat += [0] * count
            _chain(mini_fat, starts[id(n)], count)
            mini_data += n.data.ljust(count * MINI, b"\0")

    big = [n for n in nodes[1:] if n.data is not None and len(n.data) >= CUTOFF]
    dir_sectors = -(-len(nodes) * 128 // SECTOR)
    minifat_sectors = -(-len(mini_fat) * 4 // SECTOR)
    ministream_sectors = -(-len(mini_data) // SECTOR)
    big_sectors = [-(-len(n.data or b"") // SECTOR) for n in big]
    content = dir_sectors + minifat_sectors + ministream_sectors + sum(big_sectors)
    fat_sectors = 1
    while fat_sectors * (SECTOR // 4) < content + fat_sectors:
        fat_sectors += 1
    if fat_sectors > 109:
        raise ValueError("compound file too large for a FAT without DIFAT sectors")

    fat = [FREESECT] * (fat_sectors * (SECTOR // 4))
    for i in range(fat_sectors):
        fat[i] = FATSECT
    pos = fat_sectors
    dir_start = pos
    _chain(fat, pos, dir_sectors)
    pos += dir_sectors
    minifat_start = pos if minifat_sectors else ENDOFCHAIN
    _chain(fat, pos, minifat_sectors)
    pos += minifat_sectors
    ministream_start = pos if ministream_sectors else ENDOFCHAIN
    _chain(fat, pos, ministream_sectors)
    pos += ministream_sectors
    for n, count in zip(big, big_sectors, strict=True):
        starts[id(n)] = pos
        _chain(fat, pos, count)
        pos += count

    entries = bytearray()
    links = _tree_links(nodes, index)
    for n in nodes:
        left, right, child, color = links[id(n)]
        if n is root:
            etype, start, size = 5, ministream_start, len(mini_data)
        elif n.data is None:
            etype, start, size = 1, 0, 0
        else:
            etype, size = 2, len(n.data)
            start = starts.get(id(n), ENDOFCHAIN) if size else ENDOFCHAIN
        name = n.name.encode("utf-16-le")
        if len(name) > 62:
            raise ValueError(f"name too long: {n.name}")
        entries += struct.pack("<64sHBBIII16sIQQIQ", name + b"\0\0", len(name) + 2, etype, color, left, right,
                               child, b"\0" * 16, 0, 0, 0, start, size)
    for _ in range(dir_sectors * SECTOR // 128 - len(nodes)):
        entries += struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM, b"\0" * 16,
                               0, 0, 0, 0, 0)

    difat = list(range(fat_sectors)) + [FREESECT] * (109 - fat_sectors)
    header = struct.pack("<8s16sHHHHH6sIIIIIIIII", SIGNATURE, b"\0" * 16, 0x003E, 0x0003, 0xFFFE, 9, 6, b"\0" * 6,
                         0, fat_sectors, dir_start, 0, CUTOFF, minifat_start, minifat_sectors, ENDOFCHAIN, 0)
    header += struct.pack("<109I", *difat)
    out = bytearray(header)
    out += struct.pack(f"<{len(fat)}I", *fat)
    out += entries
    minifat_words = mini_fat + [FREESECT] * (minifat_sectors * SECTOR // 4 - len(mini_fat))
    out += struct.pack(f"<{len(minifat_words)}I", *minifat_words)
    out += bytes(mini_data).ljust(ministream_sectors * SECTOR, b"\0")
    for n, count in zip(big, big_sectors, strict=True):
        out += (n.data or b"").ljust(count * SECTOR, b"\0")
    return bytes(out)


def _tree_links(nodes: list[Node], index: dict[int, int]) -> dict[int, tuple[int, int, int, int]]:
    """(left sibling, right sibling, child, colour) of every node. Each storage's children form a balanced
    binary search tree over their sorted names, the nodes on its deepest, incomplete level red and all other
    nodes black: a valid red-black tree, as MS-CFB requires."""
    links: dict[int, list[int]] = {id(n): [NOSTREAM, NOSTREAM, NOSTREAM, 1] for n in nodes}
    for node in nodes:
        kids = sorted(node.children, key=lambda n: _key(n.name))
        if not kids:
            continue
        depth_max = len(kids).bit_length() - 1
        full = (1 << (depth_max + 1)) - 1 == len(kids)

        def build(lo: int, hi: int, depth: int, kids: list[Node] = kids, depth_max: int = depth_max,
                  full: bool = full) -> int:
            if lo > hi:
                return NOSTREAM
            mid = (lo + hi + 1) // 2
            entry = links[id(kids[mid])]
            entry[0] = build(lo, mid - 1, depth + 1)
            entry[1] = build(mid + 1, hi, depth + 1)
            entry[3] = 0 if (not full and depth == depth_max) else 1
            return index[id(kids[mid])]

        links[id(node)][2] = build(0, len(kids) - 1, 0)
    return {k: (v[0], v[1], v[2], v[3]) for k, v in links.items()}
