"""Writing a competition sample: where it goes, atomic table writes, and the datasheet's counts.

    out = sample_output_dir(COMPETITION.sample_dir, "science-exam", limit, out_dir)
    counts = {"train.csv": write_table(train, out / "train.csv")}
    finish_sample(COMPETITION.sample_dir, out, counts)   # rewrites the DATASHEET counts table

A full build (limit=None) writes into the committed sample folder. A quick build with a limit
writes to `cache/sample_previews/<slug>/` (or out_dir) so it never overwrites the sample.
"""
from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from common.atomic import atomic_path, atomic_write_text
from common.errors import UserError
from common.paths import cache_dir

COUNTS_BEGIN = "<!-- counts: written by build() -->"
COUNTS_END = "<!-- /counts -->"


def sample_output_dir(sample_dir: Path, slug: str, limit: int | None, out_dir: Path | None = None) -> Path:
    """Folder a build writes to: out_dir if given, the sample folder for a full build, else a preview."""
    if limit is not None and limit < 1:
        raise UserError(f"--limit must be at least 1, got {limit}")
    if out_dir is not None:
        folder = Path(out_dir)
    elif limit is None:
        folder = Path(sample_dir)
    else:
        folder = cache_dir("sample_previews") / slug
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_table(frame: pl.DataFrame, path: Path) -> int:
    """Write a CSV or Parquet file atomically (by the suffix of path); return its row count."""
    path = Path(path)
    with atomic_path(path, suffix=path.suffix) as tmp:
        if path.suffix == ".parquet":
            frame.write_parquet(tmp, compression="zstd", compression_level=19, statistics=False)
        else:
            frame.write_csv(tmp)
    return frame.height


def counts_table(counts: dict[str, int]) -> str:
    rows = "\n".join(f"| {name} | {n} |" for name, n in sorted(counts.items()))
    return f"{COUNTS_BEGIN}\n| file | rows |\n|---|---|\n{rows}\n{COUNTS_END}"


def read_counts(datasheet: Path) -> dict[str, int]:
    """The `| file | rows |` table of a DATASHEET.md, as {file name: row count}."""
    text = Path(datasheet).read_text(encoding="utf-8")
    block = text.partition(COUNTS_BEGIN)[2].partition(COUNTS_END)[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\|\s*([\w.\-]+)\s*\|\s*(\d+)\s*\|$", block, re.M)}


def is_draw(folder: Path) -> bool:
    """Whether the folder holds a draw of `make dataset ... OUT=` (its COUNTS.md), not Kaggle's files."""
    counts = Path(folder) / "COUNTS.md"
    try:
        return counts.is_file() and counts.read_text(encoding="utf-8").startswith(COUNTS_BEGIN)
    except (OSError, UnicodeDecodeError):
        return False


def finish_sample(sample_dir: Path, out: Path, counts: dict[str, int]) -> None:
    """Record the row counts: in the DATASHEET for a full build, in out/COUNTS.md for a preview."""
    table = counts_table(counts)
    datasheet = Path(sample_dir).parent / "DATASHEET.md"
    if Path(out).resolve() != Path(sample_dir).resolve():
        atomic_write_text(Path(out) / "COUNTS.md", table + "\n")
        return
    text = datasheet.read_text(encoding="utf-8") if datasheet.is_file() else ""
    if COUNTS_BEGIN in text and COUNTS_END in text:
        before, _, rest = text.partition(COUNTS_BEGIN)
        text = before + table + rest.partition(COUNTS_END)[2]
    else:
        text = text.rstrip() + "\n\n## Row counts\n\n" + table + "\n"
    atomic_write_text(datasheet, text)


def kaggle_rows(path: Path) -> int:
    """Rows of one sample file (CSV or Parquet), for checking a datasheet."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.scan_parquet(path).select(pl.len()).collect().item()
    return pl.read_csv(path, infer_schema=False).height
