"""Load a competition's files: real Kaggle files from data/<slug>/ when present, else the sample.

    ds = load_dataset(get_competition("science-exam"))
    ds.source          # "kaggle", "sample" or "custom" (a folder given with --data)
    ds.tables["train"] # polars DataFrame, checked against the schema
    ds.fingerprint     # 12 hex digits of sha256 over the files read: the same files, the same value

A file may be stored as CSV (Kaggle's form) or as Parquet with the same stem (compact samples).
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import polars as pl
from tqdm.auto import tqdm

from common.errors import UserError
from common.paths import data_dir
from common.registry import Competition
from common.schema import TableSchema

OPTIONAL_TABLE = "sample_submission"  # Kaggle ships it, but nothing needs it to run


@dataclass
class Dataset:
    source: str            # "kaggle", "sample" or "custom"
    path: Path             # the folder the files came from
    tables: dict[str, pl.DataFrame]
    fingerprint: str = ""  # files_fingerprint of the files the tables were read from
    note: str = ""         # why the sample was used although data/<slug>/ exists
    own_side_files: tuple[str, ...] = ()   # side files beside the tables that are not the sample's bytes

    def describe(self) -> str:
        sizes = ", ".join(f"{name} {len(frame)} rows" for name, frame in self.tables.items())
        label = {"kaggle": "real Kaggle files", "sample": "embedded sample (not Kaggle data)"}.get(
            self.source, "files given with --data")
        return f"data: {label} in {self.path} ({sizes})" + (f"; {self.note}" if self.note else "")


def find_table_file(folder: Path, table: TableSchema) -> Path | None:
    """The table's CSV (or a Parquet of the same stem) in `folder`; None when neither exists;
    UserError when one exists but is a folder or a link that leads nowhere."""
    candidates = (folder / table.filename, folder / f"{Path(table.filename).stem}.parquet")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    for candidate in candidates:
        if candidate.is_dir():
            raise UserError(f"{candidate} is a folder, not a file")
        if candidate.is_symlink():
            raise UserError(f"{candidate} is a link to {os.readlink(candidate)}, which is not a readable file")
    return None


def read_table(path: Path, table: TableSchema) -> pl.DataFrame:
    """Read one CSV or Parquet file and check it; bad files raise UserError with one line."""
    if Path(path).is_dir():
        raise UserError(f"{path} is a folder, not a file")
    if Path(path).exists() and not Path(path).is_file():    # reading a pipe with no writer would wait for ever
        raise UserError(f"{path} is not a regular file (a pipe, device or socket): save it as a file first")
    try:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
        else:
            frame = read_csv(path, schema_overrides=table.polars_overrides(), encoding="utf8")
    except FileNotFoundError:
        raise UserError(f"missing file: {path}") from None
    except (pl.exceptions.ComputeError, pl.exceptions.PolarsError, UnicodeDecodeError, OSError) as err:
        said = " ".join(str(err).strip().split("\n\n")[0].split()) or type(err).__name__   # its first paragraph
        said = said if len(said) <= 200 else said[:200] + "..."
        raise UserError(f"{path}: cannot read as {(path.suffix[1:] or 'csv').upper()}: {said}") from None
    if frame.height == 0:
        raise UserError(f"{path}: no rows (only a header)" if frame.width else f"{path}: empty file")
    if path.suffix != ".parquet":   # a CSV saved with Windows line ends: the same texts as Kaggle's LF file
        frame = frame.with_columns(pl.col(pl.String).str.replace_all("\r\n", "\n", literal=True))
    return table.check(frame, where=str(path))


def read_csv(path: Path, **options) -> pl.DataFrame:
    """pl.read_csv(path, **options) after check_utf8: polars decodes a header lossily, so a bad byte
    there would otherwise pass as a misnamed column. Blank lines, which polars reads as rows of
    nulls (as it reads a line of bare commas), are skipped, as pandas skips them, with a note."""
    check_utf8(path)
    try:
        frame = pl.read_csv(path, **options)
    except pl.exceptions.ComputeError:
        problem = csv_shape_problem(path)
        if problem:
            raise UserError(f"{path}: {problem}") from None
        raise
    if not frame.width:
        return frame
    renamed = [c for c in frame.columns if re.search(r"_duplicated_\d+$", c)]   # polars' name for a repeat
    if renamed:
        raise UserError(f"{path}: the header names column {renamed[0].rsplit('_duplicated_', 1)[0]!r} more than once")
    kept = frame.filter(~pl.all_horizontal(pl.all().is_null()))
    if kept.height < frame.height:
        print(f"note: {path}: skipped {frame.height - kept.height} row(s) with every field empty (blank lines)",
              file=sys.stderr)
    return kept


def csv_shape_problem(path: Path) -> str | None:
    """Where a CSV's shape breaks, in words (a record with another number of fields than the
    header, or a quote never closed), by Python's csv module; None when it reads the file whole.

        csv_shape_problem(Path("test.csv"))   # "line 4 has 5 fields, the header 2 (...)" or None
    """
    with open(path, "rb") as handle:
        if handle.read(4).startswith(COMPRESSED):
            return None
    limit = csv.field_size_limit(1 << 30)       # an essay may pass the module's 128 kB default
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader, start = csv.reader(handle, strict=True), 1
            header = next(reader, [])
            start = reader.line_num + 1
            for record in reader:
                if record and len(record) != len(header):
                    return (f"line {start} has {len(record)} fields, the header {len(header)} (a comma or quote "
                            f"in a text that is not quoted? put the text in double quotes)")
                start = reader.line_num + 1
    except csv.Error as err:
        if "end of data" in str(err):
            return f"the quote that opens a field on line {start} is never closed"
        return f"line {start}: {err}"
    finally:
        csv.field_size_limit(limit)
    return None


NEWLINE = b"\n"
COMPRESSED = (b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh")   # gzip, zstd, bzip2 magic numbers


def check_utf8(path: Path, chunk_bytes: int = 1 << 20) -> None:
    """UserError naming the line of the first byte that is not UTF-8 (read in chunks: any size).

        check_utf8(Path("data/x/train.csv"))   # None, or UserError: "...: not UTF-8 text (byte 0xff on line 1); save it as UTF-8"
    """
    decoder, line = codecs.getincrementaldecoder("utf-8")(), 1
    with open(path, "rb") as handle:
        if handle.read(4).startswith(COMPRESSED):
            return                              # polars reads a compressed CSV whatever its name
        handle.seek(0)
        for chunk in iter(lambda: handle.read(chunk_bytes), b""):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as err:     # err.object: the bytes a split character left, then chunk
                where = line + err.object[:err.start].count(NEWLINE)
                raise UserError(f"{path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} on line {where}); "
                                "save it as UTF-8") from None
            line += chunk.count(NEWLINE)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text (it ends inside a character); save it as UTF-8") from None


TEST_LABELS = "test_labels.csv"  # a sample's hidden test labels (a Kaggle download has none): kllm score's default truth


def choose_folder(competition: Competition) -> tuple[str, Path]:
    """data/<slug>/ when it holds every required file, otherwise the committed sample."""
    real = data_dir(competition.slug)
    if real.is_dir() and not missing_files(competition, real):
        return "kaggle", real
    return "sample", competition.sample_dir


def missing_files(competition: Competition, folder: Path) -> list[str]:
    """The required files of the schema that `folder` lacks (a CSV or a Parquet of the same stem)."""
    return [t.filename for name, t in competition.schema.tables.items()
            if t.required and name != OPTIONAL_TABLE and not find_table_file(folder, t)]


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of one file's bytes."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


HASH_BAR_BYTES = 256 * 2**20   # files at least this large together are hashed behind a progress bar


def _file_digest(path: Path, bar) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(2**22):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.digest()


def files_fingerprint(paths: Iterable[Path]) -> str:
    """12 hex digits of sha256 over each file's name and bytes, in the order given: two folders
    holding the same files give the same value, a changed byte another one. Files of 256 MiB
    or more together (a Wikipedia corpus) are hashed behind a progress bar.

        files_fingerprint([Path("data/x/train.csv"), Path("data/x/test.csv")])   # e.g. '3fa2c1d04b9e'
    """
    paths = [Path(path) for path in paths]
    total = sum(path.stat().st_size for path in paths)
    digest = hashlib.sha256()
    with tqdm(total=total, unit="B", unit_scale=True, desc="hashing data files",
              disable=total < HASH_BAR_BYTES) as bar:
        for path in paths:
            digest.update(path.name.encode() + b"\0" + _file_digest(path, bar))
    return digest.hexdigest()[:12]


def check_data_folder(folder: Path) -> Path:
    """`folder` when it is a folder; else a UserError saying what it is (a file, or nothing)."""
    if not Path(folder).is_dir():
        raise UserError(f"data folder {folder} " + ("is a file, not a folder" if Path(folder).exists() else "does not exist"))
    return Path(folder)


def load_dataset(competition: Competition, folder: Path | None = None) -> Dataset:
    """Every table of the schema that exists in the folder; required ones must exist. The
    fingerprint covers the tables read and the competition's side files the folder holds."""
    given = folder
    if given is not None:
        check_data_folder(given)
    source, folder = ("custom", Path(folder)) if folder else choose_folder(competition)
    if given is not None and folder.resolve() == data_dir(competition.slug).resolve():
        source = "kaggle"   # --data data/<slug>: the real files, named as make submit would find them
    tables, paths, unread = {}, [], []
    for (name, table), path in zip(competition.schema.tables.items(), table_files(competition, folder)):
        if path is None:
            if table.required and name != OPTIONAL_TABLE:
                raise UserError(f"{competition.slug}: missing {table.filename} in {folder}")
            continue
        tables[name] = read_table(path, table)
        paths.append(path)
        twin = path.with_suffix(".parquet")
        if twin != path and twin.is_file():
            unread.append(f"{twin.name} is not read ({path.name} is)")
    side = _side_files(competition, folder)
    paths += side
    fingerprint = files_fingerprint(paths)
    own = tuple(p.name for p in side if not _same_bytes(p, competition.sample_dir / p.name))
    if fingerprint == _sample_fingerprint(competition, paths):
        source = "sample"   # a copy of the committed sample is the sample (in data/<slug> too): it ranks with
        #                     the sample's runs, and --kaggle refuses it
    real = data_dir(competition.slug)
    lacks = missing_files(competition, real) if given is None and real.is_dir() else []
    note = f"{real} lacks {', '.join(lacks)}, so it was not used" if lacks else ""
    moved = os.environ.get("KLLM_DATA", "").strip()
    if given is None and moved and not real.is_dir():   # a KLLM_DATA that names the wrong level or nothing
        note = f"KLLM_DATA={moved} holds no {competition.slug}/ folder, so it was not used"
    if source == "sample" and folder.resolve() != competition.sample_dir.resolve():
        note = f"{folder} holds a copy of the embedded sample"
    zips = sorted(real.glob("*.zip")) if note else []
    if zips:            # the website's "Download All" saved there, not unpacked
        note += f"; unpack {zips[0].name} with make data COMP={competition.slug} ZIP={zips[0]}"
    if unread:
        note += ("; " if note else "") + ", ".join(unread)
    disagreement = sample_submission_disagreement(competition, tables)
    if disagreement:
        note += ("; " if note else "") + f"{disagreement}: the submission follows test's rows"
    return Dataset(source=source, path=folder, tables=tables, fingerprint=fingerprint, note=note, own_side_files=own)


def table_files(competition: Competition, folder: Path) -> list[Path | None]:
    """Each schema table's file in `folder` (a CSV, else a Parquet of the same stem), or None.

        table_files(get_competition("science-exam"), Path("/tmp/x1"))   # [.../train.csv, .../test.csv, None]
    """
    return [find_table_file(folder, table) for table in competition.schema.tables.values()]


def _side_files(competition: Competition, folder: Path) -> list[Path]:
    return [folder / name for name in competition.side_files if (folder / name).is_file()]


def folder_fingerprint(competition: Competition, folder: Path, side_files: bool = True) -> str:
    """The `data_id` a run on `folder` records (without extra rows), from the files alone: the
    tables it finds, then the side files, as `load_dataset` fingerprints them (side_files=False:
    the tables alone, as science-exam's runs before 50d4603 recorded it).

        folder_fingerprint(get_competition("science-exam"), Path("/tmp/x1"))   # e.g. '3fa2c1d04b9e'
    """
    found = [path for path in table_files(competition, folder) if path is not None]
    return files_fingerprint(found + (_side_files(competition, folder) if side_files else []))


def _same_bytes(path: Path, other: Path) -> bool:
    return other.is_file() and (path.resolve() == other.resolve() or (
        path.stat().st_size == other.stat().st_size and file_sha256(path) == file_sha256(other)))


def sample_submission_disagreement(competition: Competition, tables: dict[str, pl.DataFrame]) -> str:
    """How the ids of sample_submission and test differ, in words ("" when they agree or either is
    absent): Kaggle ships them with the same ids, so a difference means one was edited or swapped."""
    id_column = competition.schema.submission.id_column
    frames = [tables.get(OPTIONAL_TABLE), tables.get("test")]
    if any(frame is None or id_column not in frame.columns for frame in frames):
        return ""
    sample_ids, test_ids = (set(frame[id_column].to_list()) for frame in frames)
    only_sample, only_test = sample_ids - test_ids, test_ids - sample_ids
    if not only_sample and not only_test:
        return ""
    parts = [f"{len(only_test)} of test's ids are not in {OPTIONAL_TABLE}" if only_test else "",
             f"{len(only_sample)} of {OPTIONAL_TABLE}'s ids are not in test" if only_sample else ""]
    return f"{' and '.join(p for p in parts if p)} (e.g. {sorted(only_test or only_sample, key=str)[0]!r})"


def _sample_fingerprint(competition: Competition, read: list[Path]) -> str:
    """The committed sample's fingerprint over the files named as `read`, or "" where it lacks one
    or a file's size already differs (nothing is hashed then)."""
    paths = [competition.sample_dir / p.name for p in read]
    same = all(q.is_file() and q.stat().st_size == p.stat().st_size for p, q in zip(read, paths))
    return files_fingerprint(paths) if same else ""
