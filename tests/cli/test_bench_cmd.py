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
        (cache_dir("bench") / "model-copy").mkdir(exist_ok=True)                # a copied model folder's configs
        for name in ("VARIANT.json", "tokenizer.json", "genai_config.json"):
            (cache_dir("bench") / "model-copy" / name).write_text("{}")
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


def test_a_device_runtime_refusal_inside_a_benchmark_is_one_line(monkeypatch, capsys):
    import importlib
    import types

    from edge.runtime.causal_lm import InputError

    def refuse(_args):
        raise InputError("the prompt is 8190 tokens: with 32 new ones it passes the model's 8192-token context")

    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module",
                        lambda name, *a: types.SimpleNamespace(main=refuse) if name == "bench.kv_cache" else real(name, *a))
    assert main(["bench", "kv_cache", "--contexts", "8190"]) == 2
    err = capsys.readouterr().err
    assert err == "error: bench kv_cache: the prompt is 8190 tokens: with 32 new ones it passes the model's " \
                  "8192-token context\n"
