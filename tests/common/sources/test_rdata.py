"""The R XDR reader decodes what R's serialize() writes: built here byte by byte, as R lays it out."""
import gzip
import struct
import zlib

import pytest

from common.errors import UserError
from common.sources.rdata import read_lazyload_db, read_rds, unserialize

HEADER = b"X\n" + struct.pack(">iii", 3, 0x040300, 0x030500) + struct.pack(">i", 5) + b"UTF-8"


def flags(kind, attr=False, tag=False):
    return struct.pack(">i", kind | (attr << 9) | (tag << 10))


def charsxp(text):
    if text is None:
        return flags(9) + struct.pack(">i", -1)
    raw = text.encode("utf-8")
    return flags(9) + struct.pack(">i", len(raw)) + raw


def strsxp(values, names=None):
    body = struct.pack(">i", len(values)) + b"".join(charsxp(v) for v in values)
    return flags(16) + body


def named_list(items: dict):
    """VECSXP with a names attribute (a pairlist tagged with the symbol `names`)."""
    body = flags(19, attr=True) + struct.pack(">i", len(items)) + b"".join(items.values())
    attrs = flags(2, tag=True) + flags(1) + charsxp("names") + strsxp(list(items)) + struct.pack(">i", 254)
    return body + attrs


def intsxp(values):
    return flags(13) + struct.pack(">i", len(values)) + struct.pack(f">{len(values)}i", *values)


def test_character_vector_with_na_and_utf8():
    assert unserialize(HEADER + strsxp(["Emma", None, "café"])) == ["Emma", None, "café"]


def test_named_list_becomes_dict_and_integers_keep_na():
    raw = HEADER + named_list({"a": intsxp([1, -(2 ** 31), 3]), "b": strsxp(["x"])})
    assert unserialize(raw) == {"a": [1, None, 3], "b": ["x"]}


def test_rds_file_is_gunzipped(tmp_path):
    path = tmp_path / "x.rds"
    path.write_bytes(gzip.compress(HEADER + strsxp(["one", "two"])))
    assert read_rds(path) == ["one", "two"]


def test_lazyload_database_reads_each_object_by_offset(tmp_path):
    chunks, offsets, blob = {"emma": ["EMMA", "", "By Jane Austen"], "persuasion": ["Persuasion"]}, {}, b""
    for name, lines in chunks.items():
        payload = HEADER + strsxp(lines)
        chunk = struct.pack(">i", len(payload)) + zlib.compress(payload)
        offsets[name] = (len(blob), len(chunk))
        blob += chunk
    (tmp_path / "Rdata.rdb").write_bytes(blob)
    index = named_list({
        "variables": named_list({n: intsxp(list(o)) for n, o in offsets.items()}),
        "compressed": flags(10) + struct.pack(">ii", 1, 1),
    })
    (tmp_path / "Rdata.rdx").write_bytes(gzip.compress(HEADER + index))
    assert read_lazyload_db(tmp_path / "Rdata") == chunks


def test_unsupported_input_is_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="XDR"):
        unserialize(b"A\n...")
    with pytest.raises(UserError, match="unsupported object type 3"):
        unserialize(HEADER + flags(3))
    with pytest.raises(UserError, match="missing R lazy-load database"):
        read_lazyload_db(tmp_path / "nothing")
