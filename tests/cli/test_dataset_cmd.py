"""`kllm dataset --comp SLUG [--limit N] [--seed S]` calls the competition's registered builder."""
import polars as pl
import pytest

from cli.main import main
from common.paths import repo_root
from common.registry import Competition


@pytest.fixture
def calls(monkeypatch):
    seen = []
    real = Competition.load_entry

    def fake_load_entry(self, attr):
        if attr != "dataset_builder":
            return real(self, attr)
        return lambda **kwargs: seen.append((self.slug, kwargs))

    monkeypatch.setattr(Competition, "load_entry", fake_load_entry)
    return seen


def test_passes_limit_and_seed_to_the_registered_builder(calls, capsys):
    assert main(["dataset", "--comp", "prompt-recovery", "--limit", "7", "--seed", "3"]) == 0
    assert calls == [("prompt-recovery", {"limit": 7, "seed": 3, "out_dir": None})]
    assert "sample_previews/prompt-recovery" in capsys.readouterr().out


def test_full_build_names_the_committed_sample(calls, capsys):
    assert main(["dataset", "--comp", "science-exam"]) == 0
    assert calls == [("science-exam", {"limit": None, "seed": 0, "out_dir": None})]
    assert "competitions/science_exam/sample" in capsys.readouterr().out


def test_out_sends_another_seeds_draw_to_a_folder(calls, capsys, tmp_path):
    assert main(["dataset", "--comp", "science-exam", "--seed", "1", "--out", str(tmp_path / "se1")]) == 0
    ((slug, kwargs),) = calls
    assert (slug, kwargs["limit"], kwargs["seed"]) == ("science-exam", None, 1)
    assert kwargs["out_dir"].parent == tmp_path and kwargs["out_dir"].name.startswith(".se1.draw-")  # staged
    assert str(tmp_path / "se1") in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["se1"]                                         # staging gone


def test_a_draw_that_fails_leaves_out_as_it_was(monkeypatch, tmp_path, capsys):
    def half_then_fail(**kwargs):
        (kwargs["out_dir"] / "train.csv").write_text("new\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(Competition, "load_entry", lambda self, attr: half_then_fail)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "train.csv").write_text("old\n")
    (tmp_path / "out" / "test.csv").write_text("old\n")
    assert main(["dataset", "--comp", "science-exam", "--out", str(tmp_path / "out"), "--overwrite"]) == 130
    assert {p.name: p.read_text() for p in (tmp_path / "out").iterdir()} == {"train.csv": "old\n", "test.csv": "old\n"}
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_the_real_builder_writes_only_into_out(tmp_path):
    from common.registry import get_competition

    sample = get_competition("adversarial-judge").sample_dir
    before = {p.name: p.stat().st_mtime_ns for p in sample.iterdir()}
    assert main(["dataset", "--comp", "adversarial-judge", "--seed", "1", "--out", str(tmp_path)]) == 0
    seed0, seed1 = pl.read_csv(sample / "test.csv"), pl.read_csv(tmp_path / "test.csv")
    assert seed1.columns == seed0.columns and seed1.height == seed0.height
    assert seed1["topic"].to_list() != seed0["topic"].to_list()
    assert {p.name: p.stat().st_mtime_ns for p in sample.iterdir()} == before


def test_a_folder_that_holds_files_is_overwritten_only_with_overwrite(calls, capsys, tmp_path):
    (tmp_path / "train.csv").write_text("mine\n")
    assert main(["dataset", "--comp", "science-exam", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not empty" in err and "--overwrite" in err and calls == []
    assert main(["dataset", "--comp", "science-exam", "--out", str(tmp_path), "--overwrite"]) == 0
    assert len(calls) == 1 and (tmp_path / "train.csv").read_text() == "mine\n"   # the fake builder wrote nothing


@pytest.mark.parametrize("argv, message", [
    (["dataset", "--comp", "science-exam", "--limit", "0"], "--limit must be at least 1"),
    (["dataset", "--comp", "science-exam", "--limit", "ten"], "--limit must be a whole number"),
    (["dataset", "--comp", "no-such-comp"], "unknown competition"),
    (["dataset"], "required"),
    (["dataset", "--comp", "science-exam", "--out", str(repo_root() / "competitions" / "science_exam" / "sample")], "committed sample's folder"),
    (["dataset", "--comp", "science-exam", "--out", str(repo_root() / "Makefile")], "is a file, not a folder"),
    (["dataset", "--comp", "science-exam", "--out", str(repo_root() / "Makefile" / "x")], "is a file, not a folder"),
    (["dataset", "--comp", "science-exam", "--seed", "1"], "would replace the committed sample"),
    (["dataset", "--comp", "predict-the-llm", "--seed", "-1", "--out", "x"], "seed -1 is out of range"),
    (["dataset", "--comp", "predict-the-llm", "--seed", str(2 ** 64), "--out", "x"], "out of range"),
])
def test_bad_input_is_one_line_and_exit_2(calls, capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err
    assert calls == []


@pytest.mark.slow
def test_real_quick_build_writes_a_preview(capsys):
    from common.paths import cache_dir

    assert main(["dataset", "--comp", "adversarial-judge", "--limit", "5"]) == 0
    preview = cache_dir("sample_previews") / "adversarial-judge"
    assert pl.read_csv(preview / "test.csv").height == 5
