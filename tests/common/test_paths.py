"""common.paths: each place can be moved by its variable, and an empty one is the default, never the
current folder (Path("") is ".")."""
from __future__ import annotations

import pytest

from common import paths


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_variable_is_the_default_not_the_current_folder(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("KLLM_ROOT", "KLLM_DATA", "KLLM_SUBMISSIONS", "KLLM_RESULTS", "KLLM_CACHE"):
        monkeypatch.setenv(name, value)
    repo = paths.repo_root()
    assert repo == paths._REPO and repo.is_absolute()
    assert paths.data_dir("x") == repo / "data" / "x"
    assert paths.submissions_dir("x") == repo / "submissions" / "x"
    assert paths.results_path() == repo / "results" / "runs.jsonl"
    assert paths.cache_root() == repo / "cache"


def test_a_set_variable_moves_its_place(tmp_path, monkeypatch):
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "c"))
    monkeypatch.setenv("KLLM_DATA", str(tmp_path / "d"))
    assert paths.cache_root() == tmp_path / "c" and not (tmp_path / "c").exists()     # not created
    assert paths.cache_dir("models") == tmp_path / "c" / "models" and (tmp_path / "c" / "models").is_dir()
    assert paths.data_dir("x") == tmp_path / "d" / "x"


def test_blanks_around_a_value_are_dropped_and_a_tilde_is_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KLLM_CACHE", " ~/c \n")
    monkeypatch.setenv("KLLM_RESULTS", "~/runs.jsonl ")
    assert paths.cache_root() == tmp_path / "c"
    assert paths.results_path() == tmp_path / "runs.jsonl"


def test_the_cache_is_tagged_for_backup_tools_and_a_bad_one_names_its_variable(tmp_path, monkeypatch):
    from common.errors import UserError

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "c"))
    paths.cache_dir("models")
    assert (tmp_path / "c" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55\n")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "dangling"))
    with pytest.raises(UserError, match=r"cannot make the cache folder .*dangling/models \(File exists\): check KLLM_CACHE$"):
        paths.cache_dir("models")


def test_a_cache_that_cannot_take_the_tag_is_still_used(tmp_path, monkeypatch):
    (tmp_path / "c" / "models").mkdir(parents=True)                      # a cache shared read-only
    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "c"))
    real = type(tmp_path).write_text

    def read_only(self, *args, **kwargs):
        if self.name == "CACHEDIR.TAG":
            raise PermissionError(30, "Read-only file system")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(tmp_path), "write_text", read_only)
    assert paths.cache_dir("models") == tmp_path / "c" / "models"
    assert not (tmp_path / "c" / "CACHEDIR.TAG").exists()


def test_a_switch_reads_the_words_people_write_and_refuses_a_typo(monkeypatch):
    for value, on in [("1", True), (" TRUE ", True), ("yes", True), ("On", True), ("0", False), ("false", False),
                      ("no", False), ("OFF", False), ("", False), ("  ", False)]:
        monkeypatch.setenv("KLLM_X", value)
        assert paths.env_flag("KLLM_X") is on, value
    monkeypatch.delenv("KLLM_X")
    assert paths.env_flag("KLLM_X") is False
    monkeypatch.setenv("KLLM_X", "2")
    with pytest.raises(paths.UserError, match="KLLM_X='2' is neither on nor off"):
        paths.env_flag("KLLM_X")
