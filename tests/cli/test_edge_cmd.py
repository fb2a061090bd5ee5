"""`kllm edge status | rollback | run | clean` on an emulated-Pi device folder (--root), with tiny fake
bundles whose runtime is a few lines of Python run by this machine's Python (no qemu, no model):
what each prints, one line and exit 2 on bad input, and nothing changed by a refused rollback.
The ssh and qemu paths of the same commands are tested in tests/edge/deploy/test_lifecycle.py
and tests/edge/test_deploy_emulated.py."""
from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest

from cli.main import main
from edge.bundle import write_manifest
from edge.deploy.emulated import EmulatedPi
from edge.deploy.flow import comp_root, deploy_bundle

# The bundle's command line: --self-test for the deploy's smoke test, else "<teacher>: <length>"
# per input line (and the --format it was given); a line "boom" fails as a bad input would.
FAKE_RUNTIME = '''import json, sys
if "--self-test" in sys.argv:
    print(json.dumps({"ok": True, "machine": "fake", "max_abs_diff": 0.0}))
    sys.exit(0)
teacher = json.load(open("config.json"))["provenance"]["teacher"]
lines = sys.stdin.read().splitlines()
if "boom" in lines:
    print("error: line 1 went boom", file=sys.stderr)
    sys.exit(2)
fmt = " " + sys.argv[sys.argv.index("--format") + 1] if "--format" in sys.argv else ""
print("\\n".join(f"{teacher}: {len(line)}" + (" json" if "--json" in sys.argv else "") + fmt for line in lines))
'''


def fake_bundle(folder: Path, competition: str, teacher: str, **provenance) -> Path:
    folder.mkdir(parents=True)
    (folder / "detect.py").write_text(FAKE_RUNTIME)
    (folder / "config.json").write_text(json.dumps({"kind": "classifier", "provenance": {
        "competition": competition, "teacher": teacher, "scores": {"teacher": 0.5}, "commit": "c0ffee",
        **provenance}}))
    write_manifest(folder)
    return folder


@pytest.fixture
def device(tmp_path, monkeypatch) -> Path:
    """An emulated-Pi folder holding detect-ai-text v1, v2 (current) and predict-the-llm p1."""
    monkeypatch.setattr(EmulatedPi, "python", lambda self, folder: [sys.executable, "-B"])
    root = tmp_path / "my device \u00e9"          # a space and a letter beyond ASCII, as in a checkout's cache
    for competition, version in (("detect-ai-text", "v1"), ("detect-ai-text", "v2"), ("predict-the-llm", "p1")):
        teacher_options = {"experiment": "tfidf_only", "options": {"members": "tfidf_linear,tfidf_lgbm", "folds": "4"}}
        bundle = fake_bundle(tmp_path / "bundles" / version, competition, f"teacher-{version}",
                             **(teacher_options if version == "v1" else {}))
        deploy_bundle(EmulatedPi(), bundle, comp_root(str(root), competition), version=version, log=lambda *_: None)
    return root


def current(root: Path, competition: str) -> str:
    return Path(os.readlink(root / competition / "current")).name


def test_status_lists_every_competition(device, capsys):
    assert main(["edge", "status", "--root", str(device)]) == 0
    out = capsys.readouterr().out
    assert "detect-ai-text: 2 version(s), current v2" in out and "predict-the-llm: 1 version(s), current p1" in out
    assert "* v2" in out and "commit c0ffee" in out and "teacher: teacher-v1" in out
    assert "teacher: teacher-v1; experiment tfidf_only; options members=tfidf_linear,tfidf_lgbm folds=4\n" in out
    assert "teacher: teacher-v2\n" in out                                   # its teacher's defaults: nothing to say
    assert main(["edge", "status", "--root", str(device), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["deployments"]
    assert [(d["competition"], d["current"], [v["name"] for v in d["versions"]]) for d in listed] == \
        [("detect-ai-text", "v2", ["v1", "v2"]), ("predict-the-llm", "p1", ["p1"])]


def test_status_counts_what_the_study_and_chat_copied_there(device, capsys):
    for folder, mb in (("study/smollm2-fp32-1", 2), ("study/runtime-2", 1), ("chat/smollm2-int4-3", 1)):
        (device / folder).mkdir(parents=True)
        (device / folder / "model.onnx.data").write_bytes(b"\0" * mb * 1024 * 1024)
    assert main(["edge", "status", "--root", str(device)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("also under the root") and "study/ 2 folder(s) 3.0 MB, chat/ 1 folder(s) 1.0 MB" in out[1]
    assert "detect-ai-text: 2 version(s), current v2" in out           # the study's folders are no competition
    assert main(["edge", "status", "--root", str(device), "--json"]) == 0
    staged = json.loads(capsys.readouterr().out)["staged"]                # du counts the folders' own blocks too
    assert {a: (v["folders"], round(v["mb"], 1)) for a, v in staged.items()} == {"study": (2, 3.0), "chat": (1, 1.0)}


def test_clean_removes_the_staged_copies_and_leaves_every_version(device, capsys):
    for folder in ("study/smollm2-fp32-1", "chat/smollm2-int4-3", "envs/abc"):
        (device / folder).mkdir(parents=True)
        (device / folder / "model.onnx.data").write_bytes(b"\0" * 1024 * 1024)
    before = sorted(p for p in device.rglob("*") if "versions" in p.parts)
    assert main(["edge", "clean", "--root", str(device), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would remove" in out and "/study/ (1 folder(s), 1.0 MB)" in out and "/chat/ (1 folder(s)" in out
    assert "envs" not in out and (device / "study").exists()                 # a dry run removes nothing
    assert main(["edge", "clean", "--root", str(device)]) == 0
    assert "removed" in capsys.readouterr().out
    assert not (device / "study").exists() and not (device / "chat").exists() and (device / "envs" / "abc").exists()
    assert sorted(p for p in device.rglob("*") if "versions" in p.parts) == before
    assert current(device, "detect-ai-text") == "v2"
    assert main(["edge", "clean", "--root", str(device), "--envs"]) == 0
    assert "/envs/ (1 folder(s)" in capsys.readouterr().out and not (device / "envs").exists()
    assert main(["edge", "clean", "--root", str(device)]) == 0
    assert "nothing staged under" in capsys.readouterr().out


def test_status_of_an_empty_device(tmp_path, capsys):
    assert main(["edge", "status", "--root", str(tmp_path / "nothing")]) == 0
    assert "nothing deployed" in capsys.readouterr().out


def test_rollback_switches_back_and_only_that_competition(device, capsys):
    assert main(["edge", "rollback", "--comp", "detect-ai-text", "--root", str(device)]) == 0
    assert "current v2 -> v1" in capsys.readouterr().out
    assert (current(device, "detect-ai-text"), current(device, "predict-the-llm")) == ("v1", "p1")
    assert main(["edge", "rollback", "--comp", "detect-ai-text", "--to", "v2", "--root", str(device)]) == 0
    assert current(device, "detect-ai-text") == "v2"


def test_a_corrupted_target_is_refused_and_nothing_changes(device, capsys):
    (device / "detect-ai-text" / "versions" / "v1" / "detect.py").write_text("print('tampered')\n")
    links = {p: os.readlink(p) for p in device.rglob("current")}
    assert main(["edge", "rollback", "--comp", "detect-ai-text", "--root", str(device)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rollback to v1 refused" in err and "detect.py" in err
    assert {p: os.readlink(p) for p in device.rglob("current")} == links


def test_run_prints_the_bundles_output_from_a_file_or_stdin(device, tmp_path, capsys, monkeypatch):
    inputs = tmp_path / "in.txt"
    inputs.write_text("abc\nhello\n")
    assert main(["edge", "run", "--comp", "detect-ai-text", str(inputs), "--root", str(device)]) == 0
    assert capsys.readouterr().out == "teacher-v2: 3\nteacher-v2: 5\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("one line\n".encode())))
    assert main(["edge", "run", "--comp", "predict-the-llm", "--json", "--root", str(device)]) == 0
    assert capsys.readouterr().out == "teacher-p1: 8 json\n"


def test_a_failing_run_says_why_in_one_line(device, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("boom\n")
    assert main(["edge", "run", "--comp", "detect-ai-text", str(bad), "--root", str(device)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "exited 2: line 1 went boom" in err


def test_a_csv_or_jsonl_file_is_read_in_its_own_format_unless_told_otherwise(device, tmp_path, capsys):
    for name, flags, said in (("in.csv", [], " csv"), ("in.JSONL", [], " jsonl"), ("in.txt", [], ""),
                              ("in.csv", ["--format", "lines"], " lines")):
        (tmp_path / name).write_text("abc\n")
        assert main(["edge", "run", "--comp", "detect-ai-text", str(tmp_path / name), *flags, "--root", str(device)]) == 0
        assert capsys.readouterr().out == f"teacher-v2: 3{said}\n"


def test_empty_input_is_refused_before_the_device_is_asked(tmp_path, capsys, monkeypatch):
    empty = tmp_path / "empty.txt"
    empty.write_text(" \n")
    assert main(["edge", "run", "--comp", "detect-ai-text", str(empty), "--root", str(tmp_path / "no-device")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "input is empty: give INPUT=file" in err and not (tmp_path / "no-device").exists()
    monkeypatch.setattr("sys.stdin", None)      # started with <&-
    assert main(["edge", "run", "--comp", "detect-ai-text", "--root", str(tmp_path / "no-device")]) == 2
    err = capsys.readouterr().err
    assert err == "error: stdin is closed: give the inputs on stdin or as a file\n"
    assert main(["edge"]) == 2
    assert "--comp (or one of status, rollback, run, clean)" in capsys.readouterr().err


@pytest.mark.parametrize("argv, fragment", [
    (["edge", "rollback", "--comp", "titanic"], "unknown competition 'titanic'"),
    (["edge", "run", "--comp", "titanic"], "unknown competition 'titanic'"),
    (["edge", "rollback"], "required: --comp"),
    (["edge", "status", "--device", "pi@host;reboot"], "bad device"),
    (["edge", "rollback", "--comp", "detect-ai-text", "--device=-oProxyCommand=x"], "bad device"),
    (["edge", "rollback", "--comp", "science-exam"], "science-exam is not deployed"),
    (["edge", "run", "--comp", "science-exam", "/nonexistent.txt"], "missing input file"),
    (["edge", "run", "--comp", "science-exam", str(Path(__file__).resolve().parent)], "is a folder: give a file"),
    (["edge", "--comp", "detect-ai-text", "--out", str(Path(__file__).resolve().parents[2] / "Makefile")], "is a file, not a folder"),
    (["edge", "--comp", "detect-ai-text", "--out", str(Path(__file__).resolve().parents[2] / "Makefile" / "x")], "is a file, not a folder"),
    (["edge", "rollback", "--comp", "detect-ai-text", "--to", "../v1"], "bad version name"),
    (["edge", "rollback", "--comp", "detect-ai-text", "--to", "v7"], "version v7 is not in"),
    (["edge", "rollback", "--comp", "detect-ai-text", "--to", ""], "--to: empty version"),
    (["edge", "status", "--root", "a\nb"], "unsafe device root"),
    (["edge", "status", "--device", "pi@host", "--root", "a b"], "unsafe device root"),
    (["edge", "status", "--root", str(Path(__file__).resolve().parents[2] / "Makefile")], "is a file, not a folder"),
    (["edge", "run", "--comp", "detect-ai-text", "--timeout", "nan"], "--timeout must be a positive number"),
    (["edge", "run", "--comp", "detect-ai-text", "--timeout", "inf"], "--timeout must be a positive number"),
    (["edge"], "required: --comp"),
])
def test_bad_input_is_one_line_and_exit_2(device, argv, fragment, capsys):
    if "--root" not in argv:
        argv = argv + ["--root", str(device)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("flags, pruned", [([], True), (["--no-prune"], False)])
def test_no_prune_leaves_the_pruned_candidate_out(flags, pruned, monkeypatch, capsys):
    import edge.pipeline
    from common.errors import UserError

    seen = {}

    def fake_run_edge(competition, data, config, **_):
        seen["prune"] = config.prune
        raise UserError("stopped before any training")

    monkeypatch.setattr(edge.pipeline, "run_edge", fake_run_edge)
    assert main(["edge", "--comp", "detect-ai-text", *flags]) == 2
    assert (seen["prune"] is not None) is pruned
    assert "stopped before any training" in capsys.readouterr().err


@pytest.mark.parametrize("flags, met, previous, hint", [
    ([], False, "v1", "(`make edge-rollback COMP=detect-ai-text` restores v1)"),
    (["--device", "pi@pi5"], False, "v1", "(`make edge-rollback COMP=detect-ai-text DEVICE=pi@pi5` restores v1)"),
    ([], False, None, ""),                                      # a first deploy: nothing to roll back to
    (["--skip-deploy"], False, None, ""),
    ([], True, "v1", None)])                                    # met: no warning at all
def test_a_missed_gap_target_is_warned_about_and_require_gap_reaches_the_config(flags, met, previous, hint,
                                                                                monkeypatch, capsys):
    import edge.pipeline
    from edge.pipeline import EdgeReport

    seen = {}

    def fake_run_edge(competition, data, config, **_):
        seen["require_gap"] = config.require_gap
        return EdgeReport(competition="detect-ai-text", teacher="t", scores={}, table="", teacher_gap_met=met,
                          files={"csv": "build/edge/x/compare.csv"}, summary="s", bundle={"total_mb": 1.0},
                          deploy={} if "--skip-deploy" in flags else {"previous": previous})

    monkeypatch.setattr(edge.pipeline, "run_edge", fake_run_edge)
    assert main(["edge", "--comp", "detect-ai-text", *flags]) == 0
    err = capsys.readouterr().err
    assert seen["require_gap"] is False
    if hint is None:
        assert "teacher-gap" not in err
    else:
        assert f"misses the teacher-gap target{' ' + hint if hint else ''}; --require-gap makes this a failure" in err
        assert ("edge-rollback" in err) is bool(hint)
    main(["edge", "--comp", "detect-ai-text", "--require-gap"])
    assert seen["require_gap"] is True


def test_an_experiment_gives_the_teacher_its_options_and_its_own_build_folder(tmp_path, monkeypatch, capsys):
    import edge.pipeline
    from common import experiments
    from common.errors import UserError

    seen = {}

    def fake_run_edge(competition, data, config, options=None, experiment=None, **_):
        seen.update(options=options, experiment=experiment, out=config.out_dir)
        raise UserError("stopped before any training")

    monkeypatch.setattr(edge.pipeline, "run_edge", fake_run_edge)
    assert main(["edge", "--comp", "detect-ai-text", "--exp", "tfidf_only"]) == 2
    assert "experiment tfidf_only: the TF-IDF members alone" in capsys.readouterr().out
    assert seen["options"] == {"members": "tfidf_linear,tfidf_lgbm"} and seen["experiment"] == "tfidf_only"
    assert seen["out"].parts[-5:] == ("build", "edge", "detect-ai-text", "experiments", "tfidf_only")
    main(["edge", "--comp", "detect-ai-text", "--exp", "tfidf_only", "--set", "members=tfidf_linear",
          "--set", "folds=4", "--out", str(tmp_path / "out")])
    assert seen["options"] == {"members": "tfidf_linear", "folds": "4"} and seen["out"] == tmp_path / "out"
    main(["edge", "--comp", "detect-ai-text"])
    assert seen["options"] == {} and seen["experiment"] is None and seen["out"] is None
    capsys.readouterr()

    monkeypatch.setattr(experiments, "experiments_dir", lambda competition: tmp_path)
    (tmp_path / "bad.toml").write_text("[set]\nmembers = 'tfidf_linear,nope'\n")
    (tmp_path / "folded.toml").write_text("folds = 4\n[set]\nmembers = 'tfidf_linear'\n")
    (tmp_path / "noheld.toml").write_text("[set]\nheldout = false\n")     # make submit's option, not the edge spec's
    for argv, fragment in ((["--exp", "bad"], "bad.toml: members: unknown nope; known: tfidf_linear"),
                           (["--exp", "noheld"], "noheld.toml: unknown detect-ai-text edge option(s) heldout; known: "),
                           (["--exp", "absent"], "no experiment 'absent'; known: bad, folded, noheld")):
        assert main(["edge", "--comp", "detect-ai-text", *argv]) == 2
        captured = capsys.readouterr()
        assert fragment in captured.err and captured.err.count("\n") == 1, captured.err
        assert "data:" not in captured.out                   # refused before the data is read
    assert main(["edge", "--comp", "detect-ai-text", "--exp", "bad", "--set", "members=tfidf_linear"]) == 2
    assert seen["options"] == {"members": "tfidf_linear"}     # the command line mends the file's value
    assert main(["edge", "--comp", "detect-ai-text", "--exp", "folded"]) == 2
    assert "note: folded.toml's folds = 4 is make submit's; make edge's teacher keeps its own" in capsys.readouterr().out


def test_the_teacher_runs_with_the_global_generators_seeded_as_make_submits(monkeypatch):
    import random

    import numpy as np

    import edge.pipeline
    from common.errors import UserError

    draws = []

    def fake_run_edge(competition, data, config, **_):
        draws.append((random.random(), np.random.random()))
        raise UserError("stopped before any training")

    monkeypatch.setattr(edge.pipeline, "run_edge", fake_run_edge)
    for seed in ("5", "5", "6"):
        main(["edge", "--comp", "detect-ai-text", "--seed", seed])
    random.seed(5)
    np.random.seed(5)
    assert draws[0] == draws[1] == (random.random(), np.random.random()) != draws[2]


def test_every_committed_experiment_is_a_teacher_make_edge_can_port(capsys):
    from cli.commands.edge import experiment_options
    from common.experiments import list_experiments
    from common.registry import all_competitions

    checked = 0
    for competition in all_competitions():
        for name in list_experiments(competition):
            experiment, options = experiment_options(competition, name, {})    # no UserError
            assert options == experiment.options
            checked += 1
    assert checked >= 17
