"""Solution settings from `--set key=value`: one rule for every competition.

    @dataclass(frozen=True)
    class DetectConfig:
        members: str = ""
        heldout: bool = True

    cfg = config_from_options(DetectConfig, {"heldout": "0"}, where="detect-ai-text")
    cfg.heldout   # -> False

Every key must be a field of the config (an unknown key is refused, naming the known ones),
and each value is cast to its field's type (bool accepts 1/0, true/false, yes/no, on/off). A field
made by `model_option` or `file_option` has its `--set` value looked up too, so that a model or
file that is not there is refused before any work, not after minutes of it.
"""
from __future__ import annotations

import math
from dataclasses import MISSING, field, fields
from pathlib import Path

from common.errors import UserError

_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def cast_option(raw: str, default, name: str):
    """`raw` cast to the type of `default`; a UserError naming the option when it does not fit."""
    if isinstance(default, bool):
        if raw.lower() not in _TRUE + _FALSE:
            raise UserError(f"--set {name}={raw!r}: expected true or false")
        return raw.lower() in _TRUE
    if default is None or isinstance(default, str):
        return raw
    try:
        value = type(default)(raw)
    except ValueError:
        raise UserError(f"--set {name}={raw!r}: expected {type(default).__name__}") from None
    if isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"--set {name}={raw!r}: expected a finite number")
    return value


def model_option(kind: str, default: str, blank_is_none: bool = False):
    """A config field naming a model (common.models: a zoo name, a local folder or a Hugging Face id);
    blank_is_none: '' is a valid value, meaning no model.

        lm: str = model_option("causal_lm", "smollm2")        # or "encoder"
    """
    return field(default=default, metadata={"model": kind, "blank_is_none": blank_is_none})


def file_option(default: str = "", folder_too: bool = False):
    """A config field naming a file to read ('' = none), or with `folder_too` a file or a folder;
    one that names nothing here is refused before the data is read.

        memory: str = file_option()
        corpus: str = file_option(folder_too=True)
    """
    return field(default=default, metadata={"file": True, "folder_too": folder_too})


def _check_lookup(f, value) -> None:
    """A UserError when a model_option or file_option value names nothing on this machine."""
    if "model" in f.metadata and not (f.metadata["blank_is_none"] and not value.strip()):
        from common.models import check_model

        try:
            check_model(value, f.metadata["model"])
        except UserError as err:
            raise UserError(f"--set {f.name}={value}: {err}") from None
    if f.metadata.get("file") and value and not Path(value).expanduser().is_file():
        folder = Path(value).expanduser().is_dir()
        if folder and f.metadata.get("folder_too"):
            return
        what = "a folder, not a file" if folder else "no such file" + (" or folder" if f.metadata.get("folder_too") else "")
        raise UserError(f"--set {f.name}={value}: {what}")


def config_from_options(cls, options: dict[str, str], where: str, also_known: tuple[str, ...] = (), **overrides):
    """An instance of the dataclass `cls`: its defaults, replaced by `options` and by `overrides`
    (values that a command-line flag already set, such as --folds; a contradicting option is refused).
    also_known: keys the caller took out of `options` first, named with cls's when a key is unknown."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise UserError(f"unknown {where} option(s) {', '.join(unknown)}; "
                        f"known: {', '.join(sorted([*known, *also_known]))}")
    values = {}
    for name, raw in options.items():
        f = known[name]
        values[name] = cast_option(str(raw), f.default if f.default is not MISSING else None, name)
        _check_lookup(f, values[name])
    for name, value in overrides.items():
        if name in values and values[name] != value:
            raise UserError(f"{where}: --set {name}={options[name]} contradicts --{name} {value}; give one")
        values[name] = value
    return cls(**values)


def name_list(text: str, known, what: str, allow_empty: bool = True) -> list[str]:
    """The comma-separated names in `text`, each once, in the order given; a name not in `known`
    is a UserError, and so is a text that names none (such as ",") unless allow_empty and the
    text is blank.

        name_list("tfidf_linear, style_lgbm,tfidf_linear", MEMBERS, "members")  # ['tfidf_linear', 'style_lgbm']
    """
    names = list(dict.fromkeys(n.strip() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in known]
    if unknown or (not names and not (allow_empty and not text.strip())):
        raise UserError(f"{what}: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return names


def parse_options(pairs: list[str]) -> dict[str, str]:
    """{"members": "a,b"} from ["members=a,b"]; a pair without "=" or a key given twice (which
    value was meant?) is a UserError."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--set expects KEY=VALUE, got {pair!r}")
        if key.strip() in options:
            raise UserError(f"--set {key.strip()} is given twice ({options[key.strip()]!r} and {value.strip()!r}): give it once")
        options[key.strip()] = value.strip()
    return options
