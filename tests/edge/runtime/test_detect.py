"""The bundle's command line on the device (edge/runtime/detect.py), run as the device runs it, on
the tiny bundles: numbers, text pairs, n classes, self-test, bench and bad input."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from common.errors import UserError
from edge.runtime.classifier import Classifier
from tiny_onnx import PAIRS, TEXTS, odd_input_bundle


def run_cli(bundle: Path, args: list[str], stdin: bytes = b"") -> subprocess.CompletedProcess:
    """detect.py as the device runs it: its own folder, isolated mode (no repo on sys.path)."""
    return subprocess.run([sys.executable, "-I", str(bundle / "detect.py"), *args], input=stdin,
                          capture_output=True, cwd=bundle, timeout=120)


def test_cli_reads_stdin_and_prints_one_probability_per_line(tiny_bundle):
    done = run_cli(tiny_bundle, [], "\n".join(TEXTS).encode("utf-8") + b"\n")
    assert done.returncode == 0, done.stderr
    printed = np.array([float(line) for line in done.stdout.decode().splitlines()])
    np.testing.assert_allclose(printed, Classifier(tiny_bundle).predict_proba(TEXTS)[:, 1], atol=1e-6)


def test_cli_pair_bundle_reads_tab_lines_and_jsonl_and_prints_every_class(tiny_pair_bundle, tmp_path):
    expected = Classifier(tiny_pair_bundle).predict_proba(PAIRS)
    lines = "".join(f"{q}\t{r}\n" for q, r in PAIRS).encode("utf-8")
    done = run_cli(tiny_pair_bundle, [], lines)
    assert done.returncode == 0, done.stderr
    printed = np.array([[float(x) for x in line.split()] for line in done.stdout.decode().splitlines()])
    np.testing.assert_allclose(printed, expected, atol=1e-6)
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"text": PAIRS[0][0], "text_pair": PAIRS[0][1]}) + "\n"
                    + "".join(json.dumps(list(p)) + "\n" for p in PAIRS[1:]), encoding="utf-8")
    done = run_cli(tiny_pair_bundle, ["--file", str(path), "--format", "jsonl", "--json"])
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert list(rows[0]) == ["index", "id", "label", "probs"] and list(rows[0]["probs"]) == ["gpt", "llama", "mistral"]
    np.testing.assert_allclose([list(r["probs"].values()) for r in rows], expected, atol=1e-6)
    assert [r["label"] for r in rows] == [["gpt", "llama", "mistral"][i] for i in expected.argmax(1)]
    done = run_cli(tiny_pair_bundle, [], b"a question without its response\n")
    assert done.returncode == 2 and b"line 1 holds no text pair" in done.stderr


def test_cli_pair_bundle_reads_kaggle_style_csv_with_quoted_newlines(tiny_pair_bundle):
    import csv
    import io
    pairs = [(PAIRS[0][0], PAIRS[0][1] + "\nsecond line, with a comma")] + list(PAIRS[1:])
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["id", "Question", "Response"])
    writer.writerows([i, q, r] for i, (q, r) in enumerate(pairs))
    done = run_cli(tiny_pair_bundle, ["--format", "csv"], buf.getvalue().encode("utf-8"))
    assert done.returncode == 0, done.stderr
    printed = np.array([[float(x) for x in line.split()] for line in done.stdout.decode().splitlines()])
    np.testing.assert_allclose(printed, Classifier(tiny_pair_bundle).predict_proba(pairs), atol=1e-6)
    done = run_cli(tiny_pair_bundle, ["--format", "csv"], b"Question,Response\nonly a question\n")
    assert done.returncode == 2 and done.stdout == b"" and b"CSV line 2 has 1 fields" in done.stderr


def test_cli_jsonl_file_keeps_newlines_inside_a_text(tiny_bundle, tmp_path):
    texts = ["First paragraph.\n\nSecond paragraph of the same essay.", TEXTS[3]]
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(texts[0]) + "\n" + json.dumps({"id": "e7", "text": texts[1]}) + "\n", encoding="utf-8")
    done = run_cli(tiny_bundle, ["--file", str(path), "--format", "jsonl", "--json"])
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["index"] for r in rows] == [0, 1] and list(rows[0]) == ["index", "id", "prob_ai", "label", "probs"]
    assert [r["id"] for r in rows] == [0, "e7"]                      # a JSON line's id is kept
    probs = Classifier(tiny_bundle).predict_proba(texts)
    np.testing.assert_allclose([r["prob_ai"] for r in rows], probs[:, 1], atol=1e-6)
    np.testing.assert_allclose([[r["probs"]["human"], r["probs"]["ai"]] for r in rows], probs, atol=1e-6)
    assert all(r["label"] == ("ai" if r["prob_ai"] >= 0.5 else "human") for r in rows)


@pytest.mark.parametrize("stdin, args, message", [
    (b"", [], "input is empty"),
    (b"  \n\n", [], "input is empty"),
    (b"one\n\nthree\n", [], "line 2 is blank"),
    (b"caf\xe9 au lait\n", [], "not valid UTF-8 (bad byte at offset 3)"),
    (b"x" * 200 + b"\n", ["--max-bytes", "100"], "over the --max-bytes cap of 100"),
    (b"not json\n", ["--format", "jsonl"], "line 1 is not valid JSON"),
    (b'{"title": "no text"}\n', ["--format", "jsonl"], "line 1 holds no text"),
    (b"", ["--file", "/nonexistent/essays.txt"], "cannot read input file"),
], ids=["empty", "blank-only", "blank-line", "non-utf8", "huge", "bad-json", "no-text", "missing-file"])
def test_cli_bad_input_gets_one_clear_error_line(tiny_bundle, stdin, args, message):
    done = run_cli(tiny_bundle, args, stdin)
    assert done.returncode == 2
    assert done.stdout == b""
    lines = done.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines


def test_cli_huge_file_is_refused_before_reading(tiny_bundle, tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes(b"an essay\n" * 1000)
    done = run_cli(tiny_bundle, ["--file", str(path), "--max-bytes", "1000"])
    assert done.returncode == 2 and b"input is 9000 bytes, over the --max-bytes cap of 1000" in done.stderr


def test_cli_rejects_bad_flags(tiny_bundle):
    for args in (["--threads", "0"], ["--batch-size", "0"], ["--bench-threads", "1,x"], ["--format", "xml"],
                 ["--thread", "1"]):  # no abbreviations: a later flag must not change what an old one means
        done = run_cli(tiny_bundle, args, b"text\n")
        assert done.returncode == 2 and done.stderr.startswith(b"error: detect.py: ") and len(done.stderr.splitlines()) == 1, args


def test_self_test_reports_machine_and_agrees_with_bundle_time_numbers(tiny_bundle):
    done = run_cli(tiny_bundle, ["--self-test"])
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["ok"] is True
    assert report["inputs"] == 3 and report["max_abs_diff"] < 1e-6
    assert report["machine"] and report["onnxruntime"] == onnxruntime.__version__ and report["emulated"] is False


def test_bench_reports_p50_p95_per_thread_count(tiny_bundle):
    done = run_cli(tiny_bundle, ["--bench", "--bench-threads", "1,2", "--bench-repeats", "2"])
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.decode().splitlines()]
    assert [r["threads"] for r in rows] == [1, 2]
    for row in rows:
        assert row["batch"] == 1 and row["runs"] == 2 * 3  # 2 repeats of the 3 smoke texts
        assert 0 < row["p50_ms"] <= row["p95_ms"]
        assert "note" not in row  # only emulated runs carry the not-a-Pi-timing note


def test_pair_bundle_self_test_and_bench_use_its_smoke_pairs(tiny_pair_bundle):
    done = run_cli(tiny_pair_bundle, ["--self-test"])
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["ok"] is True and report["inputs"] == 3
    assert len(report["probs"][0]) == 3
    done = run_cli(tiny_pair_bundle, ["--bench", "--bench-threads", "1", "--bench-repeats", "1"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["runs"] == 3


def test_cli_a_model_input_the_runtime_cannot_build_is_one_error_line(tiny_bundle, tmp_path):
    done = run_cli(odd_input_bundle(tiny_bundle, tmp_path / "odd"), [], stdin=b"an essay\n")
    assert done.returncode == 2 and done.stdout == b""
    assert done.stderr.decode().splitlines() == ["error: model wants inputs this runtime cannot build: ['pixel_values']"]


def test_a_csv_input_is_answered_in_the_competitions_submission_form(tmp_path, minilm_tokenizer):
    import csv
    import io

    from edge.classifier.bundle import ClassifierBundleConfig, build_bundle
    from tiny_onnx import make_tiny_classifier

    model = make_tiny_classifier(tmp_path / "tiny.onnx")
    bundle = build_bundle(model, minilm_tokenizer, tmp_path / "bundle",
                          ClassifierBundleConfig(max_length=64, submission=("id", "generated"))).path
    rows = "id,prompt_id,text\n" + "".join(f'e{i},0,"{text}"\n' for i, text in enumerate(TEXTS))
    done = run_cli(bundle, ["--format", "csv"], rows.encode("utf-8"))
    assert done.returncode == 0, done.stderr
    answer = list(csv.DictReader(io.StringIO(done.stdout.decode())))
    plain = run_cli(bundle, [], "\n".join(TEXTS).encode("utf-8") + b"\n").stdout.decode().split()
    assert [row["id"] for row in answer] == [f"e{i}" for i in range(len(TEXTS))]
    assert [float(row["generated"]) for row in answer] == [float(p) for p in plain]
    with pytest.raises(UserError, match="for 2 labels want the id, then 1 or 2 probability column"):
        build_bundle(model, minilm_tokenizer, tmp_path / "bad",
                     ClassifierBundleConfig(max_length=64, submission=("id", "a", "b", "c")))
    # one column for 6 classes (an essay score 1-6) would print the last class's probability as the score
    with pytest.raises(UserError, match=r"for 6 labels want the id, then 6 probability .* 2 labels only"):
        build_bundle(model, minilm_tokenizer, tmp_path / "bad",
                     ClassifierBundleConfig(max_length=64, labels=tuple("123456"), submission=("id", "score")))
    with pytest.raises(UserError, match=r"submission columns \['ai', 'human'\] are not the labels \['human', 'ai'\]"):
        build_bundle(model, minilm_tokenizer, tmp_path / "bad",
                     ClassifierBundleConfig(max_length=64, submission=("id", "ai", "human")))


@pytest.mark.parametrize("file, content, args, said", [
    ("config.json", b"{not json", [], "config.json (Expecting property name enclosed in double quotes"),
    ("config.json", b"[]", [], "config.json holds a JSON list, not a bundle's config (an object)"),
    ("model.onnx", b"", [], "holds a damaged or incomplete bundle (model.onnx is not the file deployed: truncated "
                            "or changed, its sha256 is not the one in MANIFEST.sha256): deploy it again"),
    ("tokenizer.json", None, [], "holds a damaged or incomplete bundle (tokenizer.json is missing): deploy it again"),
    ("smoke.jsonl", None, ["--self-test"], "no smoke.jsonl in"),
    ("smoke.jsonl", b"[1]\n", ["--self-test"], "smoke.jsonl is not the bundle step's smoke inputs"),
    ("config.json", None, [], "holds a damaged or incomplete bundle (config.json is missing): deploy it again"),
    ("classifier.py", b"def broken(:\n", [], "detect.py are damaged or incomplete (SyntaxError: "),
    ("records.py", None, [], "detect.py are damaged or incomplete (FileNotFoundError: "),
], ids=["config-not-json", "config-a-list", "model-empty", "tokenizer-gone", "smoke-gone", "smoke-not-rows",
        "config-gone", "runtime-cut", "runtime-gone"])
def test_a_damaged_bundle_is_one_error_line(tiny_bundle, tmp_path, file, content, args, said):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    if content is None:
        (bundle / file).unlink()
    else:
        (bundle / file).write_bytes(content)
    done = run_cli(bundle, args, b"an essay\n")
    lines = done.stderr.decode().splitlines()
    assert done.returncode == 2 and done.stdout == b"" and len(lines) == 1 and said in lines[0], lines


def test_a_config_value_changed_after_deploy_names_the_config(tiny_bundle, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    config = json.loads((bundle / "config.json").read_text())
    (bundle / "config.json").write_text(json.dumps({**config, "max_length": "abc"}))
    done = run_cli(bundle, [], b"an essay\n")
    assert done.returncode == 2 and done.stderr.decode() == (
        f"error: {bundle} holds a damaged or incomplete bundle (config.json is not the file deployed: truncated or "
        "changed, its sha256 is not the one in MANIFEST.sha256): deploy it again\n")


def test_a_config_lacking_a_key_and_too_many_threads_are_one_error_line(tiny_bundle, tmp_path):
    import shutil

    bundle = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, bundle)
    config = json.loads((bundle / "config.json").read_text())
    (bundle / "config.json").write_text(json.dumps({k: v for k, v in config.items() if k != "labels"}))
    done = run_cli(bundle, [], b"an essay\n")
    assert done.returncode == 2 and done.stderr.decode() == (
        f"error: {bundle} holds a damaged or incomplete bundle (config.json is not the file deployed: truncated or "
        "changed, its sha256 is not the one in MANIFEST.sha256): deploy it again\n")
    done = run_cli(tiny_bundle, ["--threads", "100000"], b"an essay\n")
    assert done.returncode == 2 and b"--threads 100000 is more than this machine's" in done.stderr


def test_output_to_a_reader_that_stops_early_ends_quietly(tiny_bundle):
    reader = subprocess.Popen([sys.executable, "-I", str(tiny_bundle / "detect.py")], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tiny_bundle)
    reader.stdin.write(b"an essay\n" * 20000)      # 20,000 probabilities: more than a pipe's buffer holds
    reader.stdin.close()
    float(reader.stdout.readline())
    reader.stdout.close()                          # as `| head -1` does
    assert reader.wait(timeout=120) == 141 and reader.stderr.read() == b""
