"""Short content hashes that name cached results: the same inputs give the same key on every run.

    content_key("mc-fold", repr(config), fingerprint, texts)   # -> '3fa9c1...' (20 hex digits)
    json_key([base_id, sorted(layers), 1])                     # -> 'b41e07...' (12 hex digits)

A key must hash everything its result depends on (inputs, model fingerprint, settings); add a
version number to the hashed fields when the code that makes the result changes.
"""
from __future__ import annotations

import hashlib
import json


def content_key(*parts: object) -> str:
    """A short sha256 of the parts; lists of strings are hashed item by item, in order."""
    digest = hashlib.sha256()
    for part in parts:
        items = part if isinstance(part, (list, tuple)) else [part]
        for item in items:
            data = str(item).encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "little"))
            digest.update(data)
        digest.update(b"\x00|")
    return digest.hexdigest()[:20]


def json_key(value: object, sort_keys: bool = False) -> str:
    """The first 12 hex digits of the sha256 of `value` written as JSON (`sort_keys` for dicts
    whose insertion order may vary)."""
    return hashlib.sha256(json.dumps(value, sort_keys=sort_keys).encode()).hexdigest()[:12]
