"""The on-device generator and scorer (edge/runtime/generate.py) on the tiny Llama's exports, on
x86 and under the emulated Pi; and (slow) SmolLM2's int4 export under the emulated Pi."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tiny_llm import PROMPT

from edge.runtime.generate import CausalLM, InputError, genai_generate_ids, log_softmax, main, self_test

RUNTIME = Path(__file__).resolve().parents[3] / "edge" / "runtime" / "generate.py"


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_kv_cache_decode_equals_teacher_forced_argmax(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    ids = lm.encode(PROMPT)
    new = lm.generate_ids(ids, 12, stop_at_eos=False)
    full = lm.forward(ids + new[:-1])                      # (T, V): one pass, no cache
    assert full[len(ids) - 1:].argmax(axis=-1).tolist() == new


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_the_shared_kv_buffer_decodes_as_feeding_the_presents_back(tiny_exports, variant):
    shared, copied = CausalLM(tiny_exports[variant]), CausalLM(tiny_exports[variant])
    assert shared.share_buffer  # the builder's genai_config.json asks for it
    copied.share_buffer = False
    ids = shared.encode(PROMPT)
    steps = [lm._decoder(len(ids) + 6) for lm in (shared, copied)]
    logits = [step(ids, len(ids)) for step in steps]
    for t in range(6):
        np.testing.assert_allclose(logits[0], logits[1], atol=1e-5)
        token = int(logits[0][-1].argmax())
        logits = [step([token], len(ids) + t + 1) for step in steps]
    assert shared.generate_ids(ids, 12, stop_at_eos=False) == copied.generate_ids(ids, 12, stop_at_eos=False)



@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_one_token_steps_reuse_their_buffers_and_hand_back_logits_that_stay(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    ids = lm.encode(PROMPT)
    step = lm._decoder(len(ids) + 4)
    logits = step(ids, len(ids))
    kept, fed = [], []
    for t in range(4):
        fed.append(int(logits[-1].argmax()))
        logits = step([fed[-1]], len(ids) + t + 1)
        kept.append((logits, logits.copy()))
    assert all(np.array_equal(got, snapshot) for got, snapshot in kept)   # no step wrote over an earlier one
    assert not np.array_equal(kept[0][0], kept[1][0])
    full = lm.forward(ids + fed)                                          # (T, V), no cache
    np.testing.assert_allclose(np.stack([k[0][-1] for k in kept]), full[len(ids):], atol=1e-4)

def test_the_kv_cache_bench_times_both_ways_on_the_same_tokens(tiny_exports):
    from bench.kv_cache import measure

    rows = measure(tiny_exports["int4"], contexts=[8, 40], threads=[1], rounds=2)
    assert [(r["threads"], r["context"]) for r in rows] == [(1, 8), (1, 40)]
    assert all(r["same_tokens"] and r["copy_tok_s"] > 0 and r["shared_tok_s"] > 0 for r in rows)
    assert all(r["ratio_min"] <= r["ratio"] <= r["ratio_max"] for r in rows)



def test_the_runtime_ab_bench_decodes_both_versions_on_the_same_tokens(tiny_exports, tmp_path):
    from bench.runtime_ab import load_runtime, measure, runtime_at

    runtimes = {"base": load_runtime(runtime_at("HEAD", tmp_path), "runtime_head"),
                "new": load_runtime(RUNTIME, "runtime_tree")}
    rows = measure(tiny_exports["int4"], runtimes, threads=[1], rounds=2)
    assert [r["threads"] for r in rows] == [1] and rows[0]["same_tokens"]
    assert rows[0]["base_ms"] > 0 and rows[0]["new_ms"] > 0
    assert rows[0]["ratio_min"] <= rows[0]["ratio"] <= rows[0]["ratio_max"]

def test_the_genai_backend_decodes_the_same_tokens(tiny_exports):
    lm = CausalLM(tiny_exports["int4"])
    ids = lm.encode(PROMPT)
    assert genai_generate_ids(tiny_exports["int4"], ids, 10) == lm.generate_ids(ids, 10, stop_at_eos=False)


def test_score_is_the_sum_of_the_continuation_token_logprobs(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    total, per_token = lm.score("Question: what is the capital of France? Answer:", " Paris is the capital")
    ctx, cont = lm.encode("Question: what is the capital of France? Answer:"), lm.encode(" Paris is the capital")
    assert len(per_token) == len(cont) and total == pytest.approx(sum(per_token))
    logp = log_softmax(lm.forward(ctx + cont))
    expected = [logp[len(ctx) - 1 + i, t] for i, t in enumerate(cont)]
    np.testing.assert_allclose(per_token, expected, atol=1e-9)
    assert all(x < 0 for x in per_token)


@pytest.mark.parametrize("variant", ["fp32", "int4"])
def test_continuation_scores_reuse_the_prefix_and_equal_scoring_each_alone(tiny_exports, variant):
    lm = CausalLM(tiny_exports[variant])
    prefix, continuations = "Question: which gas do plants take in?\nAnswer:", [" oxygen", " carbon dioxide", " a"]
    totals = [lm.score(prefix, c)[0] for c in continuations]
    np.testing.assert_allclose(lm.continuation_scores(prefix, continuations, norm="sum"), totals, atol=1e-4)
    means = [t / len(lm.encode(c)) for t, c in zip(totals, continuations)]
    np.testing.assert_allclose(lm.continuation_scores(prefix, continuations), means, atol=1e-4)
    for bad_prefix, bad_continuations in (("", [" oxygen"]), (prefix, [""])):
        with pytest.raises(InputError, match="non-empty"):
            lm.continuation_scores(bad_prefix, bad_continuations)


def test_cli_generates_scores_and_refuses_bad_input(tiny_exports, capsys):
    folder = str(tiny_exports["int4"])
    assert main(["--model", folder, "--prompt", PROMPT, "--max-new-tokens", "5", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["tokens"]) <= 5 and isinstance(out["text"], str)
    assert main(["--model", folder, "--score", "--context", "Hello", "--continuation", " world"]) == 0
    assert json.loads(capsys.readouterr().out)["logprob"] < 0
    assert main(["--model", folder, "--score", "--context", "Hello"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
    assert main(["--model", "/nonexistent", "--prompt", "x"]) == 2
    capsys.readouterr()
    for bad in (["--max-new-tokens", "0"], ["--threads", "-1"], ["--bench", "--bench-repeats", "0"],
                ["--bench", "--bench-threads", "1,x"]):
        assert main(["--model", folder, "--prompt", PROMPT, *bad]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: --") and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exited:
        main(["--model", folder, "--max-new-tokens", "many"])
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "--max-new-tokens: invalid int value" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as exited:
        main(["--model", folder, "--prompt", PROMPT, "--max-new", "3"])  # no abbreviations
    err = capsys.readouterr().err
    assert exited.value.code == 2 and "unrecognized arguments: --max-new 3" in err and len(err.strip().splitlines()) == 1


def test_bench_reports_rates_per_thread_count(tiny_exports):
    done = subprocess.run([sys.executable, str(RUNTIME), "--model", str(tiny_exports["int4"]), "--bench",
                           "--bench-threads", "1,2", "--bench-repeats", "1", "--max-new-tokens", "8",
                           "--prompt-tokens", "40"], capture_output=True, text=True, timeout=300)
    rows = json.loads(done.stdout)["rows"]
    assert [r["threads"] for r in rows] == [1, 2]
    assert all(r["prefill_tok_s"][0] > 0 and r["decode_tok_s"][0] > 0 and r["peak_rss_mb"] > 0 for r in rows)


def test_bandwidth_mode_needs_no_model_and_gives_a_rate_per_thread_count(capsys):
    assert main(["--model", "/nonexistent", "--bandwidth", "--bandwidth-mb", "8", "--bench-threads", "1,2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["read_gb_s"]) == {"1", "2"} and all(0.1 < rate < 10_000 for rate in out["read_gb_s"].values())
    assert main(["--bandwidth", "--bandwidth-mb", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --") and "--bandwidth-mb" in err and len(err.strip().splitlines()) == 1


def _device_folder(model: Path, tmp_path: Path, new_tokens: int, **tolerances) -> Path:
    """The model, the runtime and smoke.json (a prompt and the host's greedy tokens; with
    tolerances, also their teacher-forced log-probabilities), as deployed."""
    folder = tmp_path / "device"
    shutil.copytree(model, folder / "model")
    shutil.copy(RUNTIME, folder / "generate.py")
    lm = CausalLM(folder / "model")
    ids = lm.encode(PROMPT)
    tokens = lm.generate_ids(ids, new_tokens, stop_at_eos=False)
    smoke = {"prompt_ids": ids, "tokens": tokens}
    if tolerances:
        logp = log_softmax(lm.forward(ids + tokens)[len(ids) - 1:-1])
        smoke.update(logprobs=logp[np.arange(len(tokens)), tokens].tolist(), **tolerances)
    (folder / "model" / "smoke.json").write_text(json.dumps(smoke))
    return folder


def _self_test_on_the_emulated_pi(pi_root, folder: Path, timeout: float) -> dict:
    from edge.deploy.emulated import EmulatedPi

    code, out, err = EmulatedPi(pi_root).run(pi_root.python_argv() + ["generate.py", "--model", "model",
                                             "--self-test"], cwd=str(folder), timeout=timeout)
    assert out, err
    return json.loads(out)


def test_tiny_int4_greedy_tokens_on_the_emulated_pi_match_x86(pi_root, tiny_exports, tmp_path):
    result = _self_test_on_the_emulated_pi(pi_root, _device_folder(tiny_exports["int4"], tmp_path, 16), 300)
    assert result["machine"] == "aarch64"
    assert result["ok"], f"Arm int4 kernels differ from x86 from token {result['first_difference']}: {result}"


@pytest.mark.slow
@pytest.mark.parametrize("variant, tolerances", [
    ("int4-q41", {}),                                        # the shipped int4: identical tokens
    ("int4-q41-fold", {}),                                   # offsets folded into the kernel: the same
    # symmetric RTN int4 takes another int8-activation kernel on Arm; measured 2026-12-02 under
    # qemu: 3/16 greedy tokens equal, teacher-forced agreement 0.875, max |logprob diff| 0.76
    ("int4", {"min_agreement": 0.8, "logprob_tolerance": 1.0}),
])
def test_smollm2_int4_generates_on_the_emulated_pi_like_x86(pi_root, tmp_path, variant, tolerances):
    from edge.generator.export import VARIANTS, build_variant

    folder = _device_folder(build_variant(VARIANTS[variant]), tmp_path, 16, **tolerances)
    result = _self_test_on_the_emulated_pi(pi_root, folder, 3600)  # qemu: minutes per token on a loaded host
    assert result["machine"] == "aarch64"
    print(f"\nSmolLM2 {variant} on the emulated Pi: {result['same']}/{result['of']} greedy tokens as on x86, "
          f"first difference at {result['first_difference']}; teacher-forced agreement "
          f"{result.get('teacher_forced_agreement', 1.0)}, max |logprob diff| {result.get('max_logprob_diff', 0.0)}")
    assert result["ok"], result


def test_a_device_that_rounds_differently_passes_only_within_the_smoke_tolerances(tiny_exports, tmp_path):
    folder = _device_folder(tiny_exports["int4"], tmp_path, 8, min_agreement=0.9, logprob_tolerance=0.5)
    smoke_file = folder / "model" / "smoke.json"
    smoke = json.loads(smoke_file.read_text())
    lm = CausalLM(folder / "model")
    other = (smoke["tokens"][-1] + 1) % 32                    # the "host" picked another last token
    smoke["tokens"][-1] = other
    logp = log_softmax(lm.forward(smoke["prompt_ids"] + smoke["tokens"])[len(smoke["prompt_ids"]) - 1:-1])
    smoke["logprobs"][-1] = float(logp[-1, other])            # ...with the log-probability this model gives it

    def check(**changes) -> dict:
        smoke_file.write_text(json.dumps({**smoke, **changes}))
        return self_test(folder / "model")

    result = check()
    assert result["first_difference"] == 7 and result["teacher_forced_agreement"] == pytest.approx(7 / 8)
    assert result["max_logprob_diff"] < 1e-4 and result["ok"] is False          # 7/8 < 0.9
    assert check(min_agreement=0.85)["ok"] is True
    shifted = [smoke["logprobs"][0] + 1.0] + smoke["logprobs"][1:]
    assert check(min_agreement=0.85, logprobs=shifted)["ok"] is False           # 1.0 nats > 0.5
