"""The results store: round trip, score updates, torn lines, and a real crash mid-append."""
import json
import signal
import subprocess
import sys
import time
from dataclasses import asdict

import pytest

from common.errors import UserError
from common.results import (append_run, append_runs, find_run, git_commit, new_run_id, read_runs, set_kaggle_ref,
                            spread_text, update_scores)
import fakes.runs


def make_run(run_id="r1", cv=0.5, **overrides):
    fields = dict(run_id=run_id, cv=cv, commit="abc123", wall_s=1.5, peak_mem_mb=120.0, extra={"options": {"k": "3"}})
    return fakes.runs.make_run(**{**fields, **overrides})


def test_round_trip_keeps_every_field(tmp_path):
    path = tmp_path / "runs.jsonl"
    first, second = make_run("a", 0.61), make_run("b", 0.72, note="n", data_source="kaggle")
    append_run(first, path)
    append_run(second, path)
    assert [asdict(r) for r in read_runs(path)] == [asdict(first), asdict(second)]
    assert len(path.read_text().splitlines()) == 2


def test_a_disk_that_takes_part_of_a_write_gets_the_rest_and_a_full_one_keeps_none_of_the_run(tmp_path, monkeypatch):
    import os

    import common.atomic

    path = tmp_path / "runs.jsonl"
    append_run(make_run("before"), path)
    real_write = os.write
    monkeypatch.setattr(common.atomic.os, "write", lambda fd, data: real_write(fd, bytes(data[:100])))
    append_runs([make_run("a"), make_run("b")], path)         # short writes, no error: written to the end
    assert [r.run_id for r in read_runs(path)] == ["before", "a", "b"]
    size = path.stat().st_size

    def disk_fills(fd, data):
        if len(data) <= 200:        # the first 100-byte writes went in; then the disk is full
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:100]))

    monkeypatch.setattr(common.atomic.os, "write", disk_fills)
    with pytest.raises(UserError, match=r"cannot append to the results store .*runs.jsonl: No space left on device "
                                        r"\(nothing of this was kept"):
        append_runs([make_run("c"), make_run("d")], path)
    assert path.stat().st_size == size                        # cut back: no torn line, no half of the run
    assert [r.run_id for r in read_runs(path)] == ["before", "a", "b"]


def test_kind_encoder_and_panel_round_trip_and_old_records_read_as_cv(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("p", metric="judge_score", kind="panel", panel="smollm2:a+b#123456"), path)
    append_run(make_run("e", metric="sharpened_cosine", kind="holdout", encoder="minilm"), path)
    old = {k: v for k, v in json.loads(path.read_text().splitlines()[0]).items()
           if k not in ("kind", "encoder", "panel")}
    with path.open("a") as handle:  # a line written before kinds existed
        handle.write(json.dumps({**old, "run_id": "old"}) + "\n")
    runs = {r.run_id: r for r in read_runs(path)}
    assert (runs["p"].kind, runs["p"].panel, runs["p"].encoder) == ("panel", "smollm2:a+b#123456", "")
    assert (runs["e"].kind, runs["e"].encoder) == ("holdout", "minilm")
    assert (runs["old"].kind, runs["old"].encoder, runs["old"].panel) == ("cv", "", "")


def test_default_path_comes_from_paths(tmp_path):
    append_run(make_run("x"))
    assert (tmp_path / "results" / "runs.jsonl").is_file()  # KLLM_RESULTS set by tests/conftest.py
    assert [r.run_id for r in read_runs()] == ["x"]


def test_missing_file_reads_as_no_runs(tmp_path):
    assert read_runs(tmp_path / "nothing.jsonl") == []


def test_score_updates_are_appended_and_latest_wins(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("a"), path)
    before = path.read_bytes()
    update_scores("a", 0.60, 0.58, path)
    set_kaggle_ref("a", "1234", path)
    update_scores("a", 0.61, 0.59, path)
    assert path.read_bytes().startswith(before)  # earlier bytes never rewritten
    (run,) = read_runs(path)
    assert (run.public, run.private, run.kaggle_ref) == (0.61, 0.59, "1234")


def test_update_written_before_its_run_still_applies(tmp_path):
    path = tmp_path / "runs.jsonl"
    set_kaggle_ref("late", "99", path)
    append_run(make_run("late"), path)
    assert read_runs(path)[0].kaggle_ref == "99"


def test_torn_last_line_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("a"), path)
    append_run(make_run("b"), path)
    with path.open("ab") as handle:
        handle.write(b'{"type": "run", "run_id": "c", "competi')  # crash mid-write
    assert [r.run_id for r in read_runs(path)] == ["a", "b"]
    err = capsys.readouterr().err
    assert "torn" in err and "last line" in err and err.count("\n") == 1


def test_a_record_whose_score_is_not_a_number_is_skipped_with_a_warning(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("good"), path)
    line = json.loads(path.read_text().splitlines()[0])
    with path.open("a") as handle:
        for run_id, cv in (("null", None), ("text", "abc"), ("nan", float("nan"))):
            handle.write(json.dumps({**line, "run_id": run_id, "cv": cv}) + "\n")   # hand-edited lines
        handle.write(json.dumps({**line, "run_id": "v", "metric_version": "2"}) + "\n")
        handle.write(json.dumps({**line, "run_id": "x", "extra": [1]}) + "\n")
        handle.write(json.dumps({"type": "scores", "run_id": "good", "public": "high"}) + "\n")
    runs = read_runs(path)
    assert [(r.run_id, r.public) for r in runs] == [("good", None)]
    err = capsys.readouterr().err
    assert err.count("its cv is not a finite number") == 3 and "line 2" in err
    assert "line 5: its metric_version is not a whole number" in err and "line 6: its extra is not an object" in err


def test_a_record_with_a_field_of_the_wrong_kind_or_none_is_skipped_naming_it(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("good"), path)
    line = json.loads(path.read_text())
    lines = [json.dumps(line)]
    for field, value in (("variant", None), ("time", 5), ("data_source", ["a"]), ("run_id", 7),
                         ("higher_is_better", "yes"), ("kaggle_ref", 3), ("variant", "red\x1b[31m")):
        lines.append(json.dumps({**line, "run_id": f"bad-{field}", field: value}))
    lines.append(json.dumps({k: v for k, v in line.items() if k != "variant"} | {"run_id": "short"}))
    path.write_bytes(b"\xef\xbb\xbf" + "\n".join(lines).encode() + b"\n")   # a BOM an editor added
    assert [r.run_id for r in read_runs(path)] == ["good"]
    err = capsys.readouterr().err
    for fragment in ("line 2: its variant is not text", "line 3: its time is not text", "its data_source is not text",
                     "line 5: its run_id is not text", "its higher_is_better is not true or false",
                     "its kaggle_ref is not text", "line 8: its variant holds control characters",
                     "line 9: it has no variant"):
        assert fragment in err, fragment
    assert "torn write" not in err


def test_kllm_results_may_name_a_folder(tmp_path, monkeypatch):
    from common.paths import results_path

    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path))
    assert results_path() == tmp_path / "runs.jsonl"
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "new-folder"))
    assert results_path() == tmp_path / "new-folder" / "runs.jsonl"
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "mine.jsonl"))
    assert results_path() == tmp_path / "mine.jsonl"
    (tmp_path / "runs.json").write_text("")            # an existing file is the store, whatever its name
    monkeypatch.setenv("KLLM_RESULTS", str(tmp_path / "runs.json"))
    assert results_path() == tmp_path / "runs.json"


def test_append_after_a_torn_line_seals_it(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("a"), path)
    with path.open("ab") as handle:
        handle.write(b'{"type": "run", "run_id": "broken"')
    append_run(make_run("b"), path)
    assert [r.run_id for r in read_runs(path)] == ["a", "b"]
    assert "line 2" in capsys.readouterr().err


_WRITER = """
import sys
from common.results import RunRecord, append_run
for i in range(5000):
    append_run(RunRecord(run_id=f"r{i}", competition="c", variant="v" * 200, metric="map@3", cv=i / 5000,
                         cv_std=0.0, folds=5, higher_is_better=True, data_source="sample", commit="x", seed=i,
                         wall_s=0.0, peak_mem_mb=0.0, time="t"), sys.argv[1])
"""


def test_killed_writer_never_corrupts_earlier_records(tmp_path):
    path = tmp_path / "runs.jsonl"
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and child.poll() is None:
        if path.exists() and path.stat().st_size > 40_000:
            break
        time.sleep(0.01)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    runs = read_runs(path)
    assert len(runs) >= 40
    assert [r.seed for r in runs] == list(range(len(runs)))  # every record before the kill is intact
    assert all(r.variant == "v" * 200 for r in runs)


def test_find_run_by_prefix_and_errors(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("20261122-aaa"), path)
    append_run(make_run("20261122-abb"), path)
    assert find_run("20261122-aa", path).run_id == "20261122-aaa"
    with pytest.raises(UserError, match="2 runs"):
        find_run("20261122-a", path)
    with pytest.raises(UserError, match="no run"):
        find_run("zzz", path)


def test_ids_are_unique_and_commit_is_known():
    ids = {new_run_id() for _ in range(200)}
    assert len(ids) == 200
    commit = git_commit()
    assert commit == "unknown" or len(commit.split("+")[0]) == 12


def test_a_repeated_draw_in_the_same_second_is_drawn_again(monkeypatch):
    import common.results as results
    from datetime import datetime, timezone

    class FrozenClock:
        @staticmethod
        def now(tz=None):
            return datetime(2026, 12, 4, 14, 30, 32, tzinfo=timezone.utc)

    draws = iter(["aaaaaaaa", "aaaaaaaa", "bbbbbbbb"])
    monkeypatch.setattr(results, "datetime", FrozenClock)
    monkeypatch.setattr(results.secrets, "token_hex", lambda n: next(draws))
    monkeypatch.setattr(results, "_ISSUED_RUN_IDS", set())
    assert [new_run_id(), new_run_id()] == ["20261204-143032-aaaaaaaa", "20261204-143032-bbbbbbbb"]


def test_lines_are_plain_json_objects(tmp_path):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("a"), path)
    entry = json.loads(path.read_text())
    assert entry["type"] == "run" and entry["cv"] == 0.5 and entry["extra"] == {"options": {"k": "3"}}


def test_a_spread_is_shown_only_for_a_score_over_two_or_more_folds():
    from dataclasses import replace

    from common.kaggle.submit import submission_message

    assert spread_text(0.01, 5) == " ± 0.0100" and spread_text(0.01, 2, "±") == "±0.0100"
    assert spread_text(0.0, 0) == spread_text(0.0, 1) == spread_text(None, 5) == ""
    record = fakes.runs.make_run(variant="attack_mix", metric="judge_score", cv=4.5884, cv_std=0.0, folds=0)
    assert "judge_score=4.5884 variant=" in submission_message(record)                 # a judge panel: no ±
    assert "=4.5884±0.0100 variant=" in submission_message(replace(record, cv_std=0.01, folds=5))


def test_a_hand_edited_kind_spread_or_fast_flag_is_skipped_naming_it(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run("good"), path)
    line = json.loads(path.read_text())
    lines = [json.dumps(line), json.dumps([1, 2])]
    for field, value in (("kind", "weird"), ("cv_std", -0.5), ("folds", -1), ("extra", {"fast": "no"})):
        lines.append(json.dumps({**line, "run_id": f"bad-{field}", field: value}))
    path.write_text("\n".join(lines) + "\n")
    assert [r.run_id for r in read_runs(path)] == ["good"]
    err = capsys.readouterr().err
    for fragment in ("line 2: it is JSON but not an object", "line 3: its kind 'weird' is none of cv, holdout, panel",
                     "line 4: its cv_std or folds is negative", "line 5: its cv_std or folds is negative",
                     "line 6: its extra.fast is not true or false"):
        assert fragment in err, fragment


def test_a_score_outside_its_metrics_range_is_skipped_naming_it(tmp_path, capsys):
    path = tmp_path / "runs.jsonl"
    append_run(make_run(run_id="good", metric="map@3", cv=0.5), path)
    line = json.loads(path.read_text())
    lines = [json.dumps(line), json.dumps({**line, "run_id": "huge", "cv": 1e300}),
             json.dumps({**line, "run_id": "below", "public": -0.2}),
             json.dumps({**line, "run_id": "loss", "metric": "multiclass_logloss", "cv": 2.5}),
             json.dumps({**line, "run_id": "judge", "metric": "judge_score", "cv": 1e300})]
    path.write_text("\n".join(lines) + "\n")
    assert [r.run_id for r in read_runs(path)] == ["good", "loss", "judge"]   # a judge score has no upper bound
    err = capsys.readouterr().err
    assert "line 2: its cv 1e+300 is outside map@3's range [0, 1]" in err
    assert "line 3: its public -0.2 is outside map@3's range [0, 1]" in err


def test_a_kaggle_score_outside_its_metrics_range_is_skipped_naming_it(tmp_path, capsys):
    from common.results import update_scores

    path = tmp_path / "runs.jsonl"
    append_run(make_run(run_id="r1", metric="sharpened_cosine", cv=0.5), path)
    update_scores("r1", public=0.61, private=0.6, path=path)
    update_scores("r1", public=1e300, private=-50.0, path=path)        # a hand edit or a damaged line
    (record,) = read_runs(path)
    assert (record.public, record.private) == (0.61, 0.6)
    err = capsys.readouterr().err
    assert "skipped the public score of run r1: 1e+300 is outside sharpened_cosine's range [-1, 1]" in err
