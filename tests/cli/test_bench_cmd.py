"""`kllm bench NAME`: each run's tables and charts are also kept under cache/bench/history/."""
import os
import sys
import types

from cli.main import main


def test_a_runs_results_are_kept_beside_the_fixed_names_the_next_run_replaces(tmp_path, monkeypatch, capsys):
    import cli.commands.bench as bench_cmd

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path / "cache"))
    old = tmp_path / "cache" / "bench" / "older.json"                 # another bench's, from before: not kept
    old.parent.mkdir(parents=True)
    old.write_text("{}")
    os.utime(old, (0, 0))

    def fake_main(args):
        from common.paths import cache_dir

        (cache_dir("bench") / "fake.json").write_text('{"ratio": 2.0}')
        (cache_dir("bench") / "fake").mkdir(exist_ok=True)
        (cache_dir("bench") / "fake" / "chart.png").write_bytes(b"png")
        (cache_dir("bench") / "fake" / "model.onnx").write_bytes(b"weights")   # not a result: left out
        print("| table |")
        return 0

    monkeypatch.setattr(bench_cmd, "available", lambda: ["fake"])
    monkeypatch.setitem(sys.modules, "bench.fake", types.SimpleNamespace(main=fake_main))
    assert main(["bench", "fake"]) == 0
    out = capsys.readouterr().out
    (kept,) = (tmp_path / "cache" / "bench" / "history").iterdir()
    assert kept.name.startswith("fake-") and f"kept: a copy of this run's tables and charts in {kept}" in out
    assert sorted(str(p.relative_to(kept)) for p in kept.rglob("*") if p.is_file()) == ["fake.json", "fake/chart.png"]
    assert (kept / "fake.json").read_text() == '{"ratio": 2.0}'
