"""A small reader for R's XDR serialization: enough for data packages' character vectors.

    objects = read_lazyload_db(Path(".../janeaustenr/data/Rdata"))   # {"emma": ["EMMA", "", ...], ...}
    value = unserialize(raw_bytes)                                     # one R object

Supported: NULL, logical/integer/double/character vectors, lists (returned as a dict when they
carry names), pairlists, symbols and back-references. Anything else (closures, environments,
ALTREP) raises UserError: this reads data, it does not run R.
"""
from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import zlib
from pathlib import Path

from common.errors import UserError

_NIL, _SYM, _LIST, _CHAR, _LGL, _INT, _REAL, _STR, _VEC = 0, 1, 2, 9, 10, 13, 14, 16, 19
_REF, _NILVALUE, _GLOBALENV, _EMPTYENV, _BASEENV, _MISSING = 255, 254, 253, 242, 241, 251
_NA_INT = -(2 ** 31)


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos, self.refs = data, 0, []

    def int(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return value

    def length(self) -> int:
        n = self.int()
        if n == -1:
            high, low = self.int(), self.int()
            n = (high << 32) + low
        return n

    def take(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        if len(chunk) != n:
            raise UserError("R data: unexpected end of stream")
        self.pos += n
        return chunk

    def item(self):
        flags = self.int()
        kind, has_attr, has_tag = flags & 0xFF, bool(flags & (1 << 9)), bool(flags & (1 << 10))
        if kind in (_NILVALUE, _NIL, _GLOBALENV, _EMPTYENV, _BASEENV, _MISSING):
            return None
        if kind == _REF:
            index = flags >> 8 or self.int()
            return self.refs[index - 1]
        if kind == _SYM:
            name = self.item()
            self.refs.append(name)
            return name
        if kind == _LIST:
            return self.pairlist(has_attr, has_tag)
        if kind == _CHAR:
            n = self.int()
            return None if n == -1 else self.take(n).decode("utf-8", errors="replace")
        if kind in (_LGL, _INT):
            n = self.length()
            values = [None if v == _NA_INT else v for v in struct.unpack(f">{n}i", self.take(4 * n))]
            value = [None if v is None else bool(v) for v in values] if kind == _LGL else values
        elif kind == _REAL:
            n = self.length()
            value = list(struct.unpack(f">{n}d", self.take(8 * n)))
        elif kind in (_STR, _VEC):
            value = [self.item() for _ in range(self.length())]
        else:
            raise UserError(f"R data: unsupported object type {kind}")
        if has_attr:
            names = (self.item() or {}).get("names")
            if kind == _VEC and names and len(names) == len(value):
                return dict(zip(names, value))
        return value

    def pairlist(self, has_attr: bool, has_tag: bool) -> dict:
        out = {}
        while True:
            if has_attr:
                self.item()
            tag = self.item() if has_tag else str(len(out))
            out[tag] = self.item()
            flags = self.int()
            if flags & 0xFF != _LIST:
                return out
            has_attr, has_tag = bool(flags & (1 << 9)), bool(flags & (1 << 10))


def unserialize(data: bytes):
    """One R object from the bytes `serialize()`/`saveRDS()` write (XDR format, after decompression)."""
    if data[:2] != b"X\n":
        raise UserError("R data: only the XDR serialization format is supported")
    reader = _Reader(data)
    reader.pos = 2
    version = reader.int()
    reader.int(), reader.int()  # writer's R version, minimal reader version
    if version == 3:
        reader.take(reader.int())  # native encoding name
    return reader.item()


def read_rds(path: Path):
    """The object stored in an .rds file (gzip, bzip2, xz or uncompressed)."""
    raw = Path(path).read_bytes()
    for opener in (gzip.decompress, bz2.decompress, lzma.decompress):
        try:
            raw = opener(raw)
            break
        except (OSError, ValueError, lzma.LZMAError):
            continue
    return unserialize(raw)


def _lazyload_chunk(blob: bytes, compressed) -> bytes:
    (size,) = struct.unpack_from(">i", blob, 0)
    body = blob[4:]
    if compressed in (True, 1):
        return zlib.decompress(body)
    kind, rest = body[:1], body[1:]
    decoders = {b"Z": lzma.decompress, b"2": bz2.decompress, b"1": zlib.decompress, b"0": lambda b: b}
    if kind not in decoders:
        raise UserError(f"R data: unknown lazy-load compression {kind!r}")
    out = decoders[kind](rest)
    if len(out) != size:
        raise UserError("R data: lazy-load chunk has the wrong length")
    return out


def read_lazyload_db(base: Path) -> dict:
    """Every object of an R lazy-load database (`<base>.rdx` index plus `<base>.rdb` data), by name."""
    base = Path(base)
    index_path, data_path = base.with_suffix(".rdx"), base.with_suffix(".rdb")
    if not index_path.is_file() or not data_path.is_file():
        raise UserError(f"missing R lazy-load database {base}.rdx/.rdb")
    index = read_rds(index_path)
    blob = data_path.read_bytes()
    compressed = (index.get("compressed") or [True])[0]
    objects = {}
    for name, (offset, length) in index["variables"].items():
        objects[name] = unserialize(_lazyload_chunk(blob[int(offset):int(offset) + int(length)], compressed))
    return objects
