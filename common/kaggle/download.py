"""Download a competition's files from Kaggle into data/<slug>/ and check them against its schema.

    from common.kaggle.download import download_competition
    download_competition(get_competition("science-exam"))   # -> Path("data/science-exam")

The zip is fetched and unpacked into a hidden staging folder beside data/<slug>/, checked with
`common.data.load_dataset`, and only then swapped into place (`common.atomic.atomic_dir`): a
refusal, a broken zip or a schema mismatch leaves data/<slug>/ exactly as it was.
"""
from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from common.atomic import atomic_dir
from common.data import load_dataset
from common.errors import UserError
from common.kaggle.client import KaggleSession
from common.paths import data_dir
from common.registry import Competition


def _unzip_all(folder: Path) -> None:
    """Unpack every zip in the folder (Kaggle also zips single large files), then drop the zips."""
    for _ in range(3):  # an archive may hold archives; three levels is more than Kaggle uses
        archives = sorted(folder.rglob("*.zip"))
        if not archives:
            return
        for archive in archives:
            try:
                with zipfile.ZipFile(archive) as zf:
                    for member in zf.namelist():
                        target = (archive.parent / member).resolve()
                        if not target.is_relative_to(archive.parent.resolve()):
                            raise UserError(f"{archive.name}: unsafe path {member!r} in the archive")
                    zf.extractall(archive.parent)
            except zipfile.BadZipFile:
                raise UserError(f"{archive.name}: the download is not a valid zip file") from None
            archive.unlink()


def download_competition(competition: Competition, session: KaggleSession | None = None) -> Path:
    """Fetch, unzip and schema-check the competition's files; return data/<slug>/."""
    session = session or KaggleSession.open()
    target = data_dir(competition.slug)
    for stale in target.parent.glob(f".{competition.slug}.download-*"):  # killed runs of older versions
        shutil.rmtree(stale, ignore_errors=True)
    with atomic_dir(target) as staging:
        session.call("download the competition files", session.api.competition_download_files,
                     competition.kaggle_slug, path=str(staging), force=True, quiet=False,
                     competition_slug=competition.kaggle_slug)
        for marker in staging.glob("*.kaggle-partial*"):
            marker.unlink()
        _unzip_all(staging)
        load_dataset(competition, staging)  # raises UserError naming the first bad file or column
    return target
