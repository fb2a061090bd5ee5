"""Tiny files in a competition's Kaggle layout, made from its schema (for download tests).

    zip_bytes = kaggle_zip(get_competition("science-exam"), rows=4)
"""
from __future__ import annotations

import io
import zipfile

from common.registry import Competition
from common.schema import FLOAT, INT


def _value(kind: str, column: str, row: int) -> str:
    if kind == INT:
        return str(row)
    if kind == FLOAT:
        return "0.5"
    return f"{column} text {row}"


def table_csv(columns: dict[str, str], rows: int) -> str:
    lines = [",".join(columns)]
    lines += [",".join(_value(kind, name, i) for name, kind in columns.items()) for i in range(rows)]
    return "\n".join(lines) + "\n"


def kaggle_zip(competition: Competition, rows: int = 4, drop_column: str | None = None) -> bytes:
    """A zip holding every table of the schema as CSV; drop_column removes one column everywhere."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for table in competition.schema.tables.values():
            columns = {k: v for k, v in table.columns.items() if k != drop_column}
            zf.writestr(table.filename, table_csv(columns, rows))
    return buffer.getvalue()
