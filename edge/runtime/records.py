"""What the device's command line is given, read and checked: its flags (a bad one is one line),
a bundle's config.json, and the inputs (stdin or --file) as one record per input. Copied to the
device beside detect.py; imports only the standard library.

Formats (detect.py's --format): "lines", one input per line ("text<TAB>text_pair" for a pair
bundle); "jsonl", a JSON string, a ["text", "text_pair"] list or an object per line ({"text": ...,
"text_pair": ...}, or the bundle's own keys; an "id" key is kept); "csv", a header and one input
per row (the bundle's own columns, else text[,text_pair], else Kaggle's Question,Response, else
the only one or two columns other than "id": more than that is refused, never guessed; an "id"
column is kept as each input's id).

    records = parse_records(read_input("in.csv", 1 << 20), "csv", pairs=True)   # [(id, (text, pair)), ...]
    parse_inputs(b"first essay\nsecond essay\n")                                # ["first essay", "second essay"]

Bad input raises InputError, whose message main() prints as one line (exit code 2).
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path


DEFAULT_MAX_BYTES = 8 * 1024 * 1024
EMULATED_NOTE = "emulated under qemu: these timings say nothing about Raspberry Pi speed"
THREADS_PER_CORE = 4   # onnxruntime starts every thread it is given: thousands stall before the first input
MANIFEST = "MANIFEST.sha256"   # edge/bundle.py writes it into every folder it deploys


class InputError(Exception):
    """Bad input; main() prints it as one line and exits with code 2."""


class OneLineParser(argparse.ArgumentParser):
    """A bad flag is one `error:` line on stderr and exit code 2, as bad input is (no usage block)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)  # a flag's prefix is an error, never that flag
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def load_config(folder: Path) -> dict:
    path = Path(folder) / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:       # a deployed bundle that lost it, or not a bundle
        raise damaged_bundle(folder, "", when_intact=f"no config.json in {folder}: not a bundle folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path} ({exc}): deploy the bundle again") from None
    if not isinstance(config, dict):
        raise InputError(f"{path} holds a JSON {type(config).__name__}, not a bundle's config (an object)")
    return config


@contextmanager
def reading_bundle(folder: Path):
    """Whatever loading or self-testing `folder`'s files raises (json's, onnxruntime's or tokenizers'
    own errors, a key the config lacks) as one InputError naming the folder, and the file that is not
    as deployed where the bundle's MANIFEST.sha256 can tell (else the loader's own words).

        with reading_bundle(folder):
            model = Classifier(folder)
    """
    try:
        yield
    except InputError:
        raise
    except Exception as exc:   # onnxruntime and tokenizers raise their own classes, not ValueError or OSError
        detail = (str(exc).strip().splitlines() or [""])[-1][:200]
        raise damaged_bundle(folder, f"{type(exc).__name__}: {detail}") from None


def damaged_bundle(folder: Path, detail: str, when_intact: str | None = None) -> InputError:
    """The one-line InputError for a bundle that failed to load: what its manifest says is not as
    deployed, else `detail` (the loader's own words); `when_intact`, if given, is the whole message
    when the manifest finds nothing wrong (or there is none: not a deployed bundle)."""
    problem = manifest_problem(folder)
    if problem is None and when_intact is not None:
        return InputError(when_intact)
    return InputError(f"{folder} holds a damaged or incomplete bundle ({problem or detail}): deploy it again")


def manifest_problem(folder: Path) -> str | None:
    """Which of `folder`'s files are not as deployed: those its MANIFEST.sha256 lists that are
    missing, else those whose sha256 differs (truncated or changed); None when every file matches
    or there is no readable manifest. Only called after a load failed: it hashes every file (about
    a second per 500 MB).

        manifest_problem(Path("study/smollm2-int4"))   # -> "model.onnx.data is not the file deployed (...)"
    """
    folder = Path(folder)
    try:
        lines = (folder / MANIFEST).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    listed = [(name, digest) for digest, _, name in (line.partition("  ") for line in lines) if name]
    outside = [name for name, _ in listed if Path(name).is_absolute() or ".." in Path(name).parts]
    if outside:
        return f"its {MANIFEST} is damaged: it names {outside[0]!r}, outside the folder"
    missing = [name for name, _ in listed if not (folder / name).is_file()]
    if missing:
        return f"{_names(missing)} {'is' if len(missing) == 1 else 'are'} missing"
    changed = [name for name, digest in listed if sha256_file(folder / name) != digest]
    if changed:
        return (f"{_names(changed)} {'is not the file' if len(changed) == 1 else 'are not the files'} deployed: "
                f"truncated or changed, {'its sha256 is' if len(changed) == 1 else 'their sha256s are'} not "
                f"the one{'s' * (len(changed) > 1)} in {MANIFEST}")
    return None


def _names(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def sha256_file(path: Path) -> str:
    """The file's sha256 as hex (as `sha256sum` prints it), read 1 MiB at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_threads(counts: list[int], flag: str = "--threads") -> None:
    """InputError for a thread count above THREADS_PER_CORE a core of this machine."""
    problem = threads_problem(counts, os.cpu_count() or 1, flag)
    if problem:
        raise InputError(problem)


def threads_problem(counts: list[int], cores: int, flag: str = "--threads", machine: str = "this machine's") -> str | None:
    """Why a thread count in `counts` is more than `cores` cores can use, or None (the host asks it
    of a device before staging anything there: edge.deploy.lifecycle.check_device_threads)."""
    over = [n for n in counts if n > THREADS_PER_CORE * cores]
    return (f"{flag} {over[0]} is more than {machine} {cores} cores can use (at most {THREADS_PER_CORE * cores}, "
            f"{THREADS_PER_CORE} a core)") if over else None


def run_main(main) -> int:
    """main()'s exit code, or 141 (as a Unix tool killed by SIGPIPE) without a traceback when the
    reader of stdout stopped early (`python3 detect.py --file big.csv | head -1`).

        sys.exit(run_main(main))
    """
    for stream in (sys.stdout, sys.stderr):   # a character the terminal cannot show: an escape, not a traceback
        try:
            stream.reconfigure(errors="backslashreplace")
        except (AttributeError, ValueError):
            pass
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())   # the flush at exit would fail again
        return 141


def read_input(path: str | None, max_bytes: int) -> bytes:
    """stdin (path None) or the file's bytes, at most max_bytes; a bigger file is refused before
    it is read."""
    if path is None:
        if sys.stdin is None:      # started with stdin closed (<&-)
            raise InputError("stdin is closed: give the inputs on stdin or with --file")
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            size = os.path.getsize(path)
            if size > max_bytes:
                raise InputError(f"input is {size} bytes, over the --max-bytes cap of {max_bytes}")
            data = Path(path).read_bytes()
        except OSError as exc:     # missing, a folder, no permission
            raise InputError(f"cannot read input file: {path} ({exc.strerror or exc})") from None
    if len(data) > max_bytes:
        raise InputError(f"input is over the --max-bytes cap of {max_bytes} bytes")
    return data


def decode_text(data: bytes) -> str:
    """UTF-8 text; a leading byte-order mark (a CSV saved by Excel) is dropped, as the host's
    polars drops it, so a header's first column keeps its name ("id", not "\\ufeffid")."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not valid UTF-8 (bad byte at offset {exc.start})") from None


# columns of one input in a CSV header (or JSON keys), tried in order after a bundle's own
CSV_COLUMNS = (("text", "text_pair"), ("Question", "Response"))


def parse_inputs(data: bytes, fmt: str = "lines", pairs: bool = False, columns: tuple = ()) -> list:
    """Bytes -> texts, or (text, text_pair) tuples for a pair bundle (see the module docstring)."""
    return [item for _, item in parse_records(data, fmt, pairs, columns)]


def text_lines(text: str) -> list[str]:
    """The lines of `text`, split at "\n" only (a "\r" before it dropped). str.splitlines would
    also split at U+2028, U+0085 and other separators that a text, or a JSON string, may hold.

        text_lines("a\u2028b\r\nc\n")   # ["a\u2028b", "c"]
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def parse_records(data: bytes, fmt: str = "lines", pairs: bool = False, columns: tuple = ()) -> list[tuple]:
    """(id, input) per input. columns: the bundle's own CSV columns / JSON keys of one input
    (tried before text[,text_pair] and Question,Response)."""
    text = decode_text(data)
    names = ((tuple(columns),) if columns else ()) + CSV_COLUMNS
    if fmt == "csv":
        return _csv_records(text, pairs, names)
    lines = text_lines(text)
    if not any(line.strip() for line in lines):
        raise InputError("input is empty: give one input per line on stdin or with --file")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise InputError(f"line {number} is blank: every line must hold one input")
        key, item = _json_record(line, number, names) if fmt == "jsonl" else \
            (None, tuple(line.split("\t", 1)) if pairs else line)
        records.append((number - 1 if key is None else key, _check_item(item, number, pairs)))
    return records


CSV_FIELD_LIMIT = 1 << 30   # csv's own default (128 kB) is shorter than a long essay; the host's reader has none


def csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """(file line a row starts on, its fields) per row, as the host reads a CSV: blank rows
    skipped, a CRLF inside a quoted field read as LF; a quote never closed or a stray quote is an
    InputError naming its line (the lenient reader would merge every later row into that field).

        csv_rows('id,text\r\n7,"a\r\nb"\r\n\r\n9,c\r\n')   # [(1, ["id", "text"]), (2, ["7", "a\nb"]), (5, ["9", "c"])]
    """
    limit = csv.field_size_limit(CSV_FIELD_LIMIT)
    reader, rows, line = csv.reader(io.StringIO(text), strict=True), [], 1
    try:
        for row in reader:
            if any(field.strip() for field in row):
                rows.append((line, [field.replace("\r\n", "\n") for field in row]))
            line = reader.line_num + 1
    except csv.Error as err:
        said = "a quote that opens a field here is never closed" if "end of data" in str(err) else str(err)
        raise InputError(f"CSV line {line}: {said}") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def check_header(header: list[str]) -> None:
    """InputError when a CSV header names a column twice: which of the two is the text would be a guess."""
    twice = sorted({name for name in header if name and header.count(name) > 1})
    if twice:
        raise InputError(f"the CSV header names {', '.join(twice)} more than once: which column holds the input?")


def _csv_records(text: str, pairs: bool, names: tuple) -> list[tuple]:
    """Rows as the host reads a CSV (csv_rows); errors name the file line a row starts on."""
    rows = csv_rows(text)
    if len(rows) < 2:
        raise InputError("CSV input needs a header line and at least one row")
    header = [h.strip() for h in rows[0][1]]
    check_header(header)
    width = 2 if pairs else 1
    wanted = next((c[:width] for c in names if len(c) >= width and set(c[:width]) <= set(header)), None)
    if len(header) < width:
        raise InputError(f"CSV input needs {width} column(s), the header has {len(header)}")
    ids = [i for i, name in enumerate(header) if name.lower() == "id"]
    others = [i for i in range(len(header)) if i not in ids]
    own = ",".join(next(c[:width] for c in names if len(c) >= width))   # the bundle's own columns, else text
    if not wanted and len(others) < width:
        raise InputError(f"CSV input needs {width} column(s) besides id ({own}), the header has {', '.join(header)}")
    if not wanted and len(others) > width:   # which of them is the text? a guess would score the wrong one
        raise InputError(f"CSV input: no {own} column{'s' if width > 1 else ''} in the header "
                         f"({', '.join(header)}); name {'them' if width > 1 else 'it'} so, or give only "
                         f"{width} column{'s' if width > 1 else ''} besides id")
    where = [header.index(c) for c in wanted] if wanted else others[:width]
    key = ids[0] if ids else None
    records = []
    for number, row in rows[1:]:
        if len(row) != len(header):
            raise InputError(f"CSV line {number} has {len(row)} fields, the header has {len(header)}")
        item = tuple(row[i] for i in where)
        if not all(part.strip() for part in item):
            names_of = ", ".join(header[i] for i, part in zip(where, item) if not part.strip())
            raise InputError(f"CSV line {number}: {names_of} is empty")
        records.append((len(records) if key is None else row[key], item if pairs else item[0]))
    return records


def _json_record(line: str, number: int, names: tuple):
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        raise InputError(f"line {number} is not valid JSON") from None
    if isinstance(item, dict):
        cols = next((c for c in names if set(c) <= set(item)), None) or \
            next((c[:1] for c in names if c[0] in item), ("text",))
        values = tuple(item.get(c) for c in cols)
        return item.get("id"), values if len(values) == 2 else values[0]
    return None, tuple(item) if isinstance(item, list) else item


def _check_item(item, number: int, pairs: bool):
    parts = item if isinstance(item, tuple) else (item,)
    if len(parts) == (2 if pairs else 1) and all(isinstance(p, str) and p.strip() for p in parts):
        return parts if pairs else parts[0]
    if pairs:
        raise InputError(f'line {number} holds no text pair: use "text<TAB>text_pair", '
                         '{"text": ..., "text_pair": ...} or ["text", "text_pair"]')
    raise InputError(f'line {number} holds no text: use a JSON string or {{"text": "..."}}')
