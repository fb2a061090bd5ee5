"""Download a competition's files from Kaggle into data/<slug>/ and check them against its schema.

    from common.kaggle.download import download_competition
    download_competition(get_competition("science-exam"))   # -> Path("data/science-exam")

    install_zip(get_competition("science-exam"), Path("~/Downloads/kaggle-llm-science-exam.zip"))

The zip is fetched (or copied) and unpacked into a hidden staging folder beside data/<slug>/,
checked with `common.data.load_dataset`, and only then swapped into place
(`common.atomic.atomic_dir`): a refusal, a broken zip or a schema mismatch leaves data/<slug>/
exactly as it was. Files of the user's in data/<slug>/ that the download lacks (train_extra.csv,
notes) are carried over into the new folder; Kaggle's own files are replaced. What an earlier
download or zip brought that this one lacks (listed in its DOWNLOADED file) is carried over too,
but named as such, never as the user's own.
"""
from __future__ import annotations

import shutil
import zipfile
import zlib
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
            except (zipfile.BadZipFile, zlib.error, EOFError) as err:    # the last two: damaged compressed data
                raise UserError(f"{archive.name}: not a valid zip file ({type(err).__name__}: {err})") from None
            except (RuntimeError, NotImplementedError) as err:            # encrypted; Deflate64 (Windows)
                raise UserError(f"{archive.name}: cannot unpack it here ({err}): unzip it yourself into the "
                                f"data folder") from None
            archive.unlink()


DOWNLOADED = ".kllm-downloaded"   # the names a download or zip put in data/<slug>/, one a line
NOT_DATA = ("__MACOSX", ".DS_Store", "Thumbs.db")   # what a zip made on macOS or Windows adds


def _keep_own_files(target: Path, staging: Path) -> tuple[list[str], list[str]]:
    """Copy into the new folder what a user keeps beside Kaggle's files (train_extra.csv, notes):
    names the download does not have (an archiver's __MACOSX/.DS_Store left by an older install
    excepted). Returns (the user's names, names an earlier download brought)."""
    if not target.is_dir():
        return [], []
    earlier = set((target / DOWNLOADED).read_text().splitlines()) if (target / DOWNLOADED).is_file() else set()
    own, brought = [], []
    for entry in sorted(target.iterdir()):
        if (staging / entry.name).exists() or entry.name in (DOWNLOADED, *NOT_DATA):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.copytree(entry, staging / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, staging / entry.name, follow_symlinks=False)
        (brought if entry.name in earlier else own).append(entry.name)
    return own, brought


def _drop_not_data(staging: Path) -> None:
    """Remove what an archiver adds beside the files (__MACOSX/, .DS_Store), at any depth."""
    for path in sorted(staging.rglob("*"), key=lambda p: -len(p.parts)):
        if path.name in NOT_DATA and not path.is_symlink():
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _lift_single_folder(staging: Path, levels: int = 3) -> None:
    """A zip saved by hand may hold a folder (or a folder in a folder) around the files: take the
    files out of it."""
    for _ in range(levels):
        entries = list(staging.iterdir())
        if not (len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink()):
            return
        inner = entries[0]
        for entry in list(inner.iterdir()):
            if entry.name != inner.name:        # the only name staging already holds
                entry.rename(staging / entry.name)
        if not any(inner.iterdir()):
            inner.rmdir()


def install_files(competition: Competition, fill, source: str, log=print) -> Path:
    """Fill a staging folder (`fill(staging)`), unzip and schema-check it, keep the user's own
    files from data/<slug>/, then swap it in; return data/<slug>/ (the folder a link there names).
    `source` names what was filled in, for errors."""
    target = data_dir(competition.slug)
    if target.is_symlink():                     # data kept on another disk: fill the linked folder
        target = target.resolve()
    if target.exists() and not target.is_dir():
        raise UserError(f"{target} is a file, not a folder: move it away, then run this again")
    for stale in target.parent.glob(f".{competition.slug}.download-*"):  # killed runs of older versions
        shutil.rmtree(stale, ignore_errors=True)
    with atomic_dir(target) as staging:
        fill(staging)
        for marker in staging.glob("*.kaggle-partial*"):
            marker.unlink()
        _unzip_all(staging)
        _drop_not_data(staging)
        _lift_single_folder(staging)
        try:
            load_dataset(competition, staging)  # raises UserError naming the first bad file or column
        except UserError as err:
            folders = sorted(p.name + "/" for p in staging.iterdir() if p.is_dir() and not p.is_symlink())
            where = f" (its top level holds the folders {', '.join(folders)})" if " missing " in str(err) and folders else ""
            raise UserError(str(err).replace(str(staging), source) + where) from None
        (staging / DOWNLOADED).write_text("".join(f"{p.name}\n" for p in sorted(staging.iterdir())))
        kept, brought = _keep_own_files(target, staging)
    if kept:
        log(f"kept your own files in {target}: {', '.join(kept)}")
    if brought:
        log(f"kept what an earlier download or zip brought to {target} and this one lacks "
            f"(remove it if it is not yours): {', '.join(brought)}")
    return target


def download_competition(competition: Competition, session: KaggleSession | None = None, log=print) -> Path:
    """Fetch, unzip and schema-check the competition's files; return data/<slug>/. Files of the
    user's beside them (a train_extra.csv) are kept; Kaggle's own are replaced."""
    session = session or KaggleSession.open()

    def fetch(staging: Path) -> None:
        session.call("download the competition files", session.api.competition_download_files,
                     competition.kaggle_slug, path=str(staging), force=True, quiet=False,
                     competition_slug=competition.kaggle_slug)

    return install_files(competition, fetch, "the download", log)


def install_zip(competition: Competition, archive: Path, log=print) -> Path:
    """data/<slug>/ from a zip downloaded by hand (the website's "Download All"), checked as a download is."""
    archive = Path(archive)
    if archive.is_dir():
        raise UserError(f"{archive} is a folder, not a zip file")
    if archive.exists() and not archive.is_file():
        raise UserError(f"{archive} is not a regular file (a pipe, device or socket)")
    if not archive.is_file():
        raise UserError(f"no such zip file: {archive}")
    if not zipfile.is_zipfile(archive):
        raise UserError(f"{archive} is not a zip file")
    name = archive.name if archive.suffix == ".zip" else f"{archive.name}.zip"    # _unzip_all takes *.zip
    return install_files(competition, lambda staging: shutil.copy2(archive, staging / name), archive.name, log)
