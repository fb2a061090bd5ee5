"""The bundle's command line on the device: texts or text pairs in, class probabilities (or,
for a writer bundle, texts) out. Copied to the device as is.

Imports only onnxruntime, tokenizers, numpy and the standard library (onnxruntime and tokenizers
only when a model runs), and two files beside it: records.py (reading the input) and
classifier.py (the model). It reads the bundle it sits in: model.onnx, tokenizer.json and
config.json (max_length, labels, output kind, input names, whether an input is one text or a
pair). Other kinds of bundle are run by a file beside this one (KINDS): "lm_features" (a causal
LM's token statistics and a tree or linear head over pairs, lm_features.py); "science_answerer"
(science.py: retrieval and a causal LM's option scores, questions in, top 3 letters out; its file
is the whole command line, PROGRAMS); the writers, which run a
plan the host computed and print text: "essay_writer" (essays.py: topics in, essays out) and
"prompt_writer" (prompts.py: original and rewritten text in, the rewrite prompt out).

    python3 detect.py < essays.txt                  # one text per line -> one line per text
    python3 detect.py --file in.jsonl --format jsonl --json   # texts with newlines, JSON out
    python3 detect.py --self-test                   # the bundle's smoke inputs vs the host's numbers
    python3 detect.py --bench --bench-threads 1,4   # latency p50/p95 per input at batch 1

Output. Two classes (detect-ai-text: human, ai): the positive class's probability per line, or
with --json {"index", "id", "prob_<positive>", "label", "probs"} (label: positive at or above
the threshold; id: the input's CSV or JSON "id", else its index); a CSV input (--format csv) to a bundle that knows its competition's submission
form (config "submission", e.g. id,generated) gets that CSV, ids kept. More classes: every
class's probability per line in label order, or with --json
{"index", "id", "label", "probs"} (label: the most probable). A pair bundle reads "text<TAB>text_pair"
lines, or JSON lines {"text": ..., "text_pair": ...} or ["text", "text_pair"], or (--format
csv) a CSV with a header: columns text[,text_pair], or Kaggle's Question,Response (else the
only one or two columns besides id; more are refused, never guessed). A writer prints a CSV in Kaggle's submission form (id, then its
output column: essay, rewrite_prompt), or with --json one {"id", <output column>, ...} per
input; its inputs may also come as a CSV with its config's columns (id,topic or
id,original_text,rewritten_text) or JSON lines with those keys; the id is the CSV's or JSON
line's "id", else the input's index from 0. Its --self-test wants the host's outputs exactly.

Bad input (empty, over --max-bytes, not UTF-8, a blank line) prints one `error:` line on stderr
and exits with code 2.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
# kind of bundle -> (file beside this one, class with from_bundle(folder, threads)); others: Classifier
KINDS = {"lm_features": ("lm_features.py", "LmFeatureClassifier"),
         "essay_writer": ("essays.py", "EssayWriter"),
         "prompt_writer": ("prompts.py", "PromptWriter"),
         "science_answerer": ("science.py", "Answerer")}
# kinds whose file is the whole command line: main() hands it every argument as given
PROGRAMS = ("science_answerer",)


def load_sibling(name: str, kind: str):
    """The module in file `name` beside this one, loaded without writing __pycache__."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"kllm_{kind}", HERE / name)
    module = importlib.util.module_from_spec(spec)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True   # no __pycache__ beside the manifest
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


if __package__:     # imported on the host as edge.runtime.detect
    from . import classifier, records
else:               # a bundle's program (python3 -I detect.py), or loaded by another runtime file
    try:
        classifier, records = load_sibling("classifier.py", "classifier"), load_sibling("records.py", "records")
    except Exception as exc:   # a runtime file beside this one missing or cut short (OSError, SyntaxError, ...)
        print(f"error: the runtime files beside {HERE / 'detect.py'} are damaged or incomplete "
              f"({type(exc).__name__}: {exc}): deploy the bundle again", file=sys.stderr)
        sys.exit(2)
Classifier, format_row = classifier.Classifier, classifier.format_row
InputError, load_config, read_input = records.InputError, records.load_config, records.read_input
parse_inputs, parse_records, DEFAULT_MAX_BYTES = records.parse_inputs, records.parse_records, records.DEFAULT_MAX_BYTES
OneLineParser, EMULATED_NOTE, reading_bundle = records.OneLineParser, records.EMULATED_NOTE, records.reading_bundle
check_threads, run_main = records.check_threads, records.run_main


def open_bundle(folder: Path, threads: int = 1):
    """What the bundle runs: Classifier (classifier.py), or for a kind in KINDS that file's class (loaded
    from beside this file, which the bundle holds). A writer has `output` (its column) and
    write(inputs) -> one dict per input; a classifier has predict_proba and logits."""
    config = load_config(folder)
    kind = config.get("kind")
    with reading_bundle(folder):
        if kind not in KINDS:
            try:
                return Classifier(folder, threads, config)
            except ValueError as exc:   # a model input this runtime cannot build, or a config value not as written
                raise records.damaged_bundle(folder, str(exc), when_intact=str(exc)) from None
        name, cls = KINDS[kind]
        return getattr(load_sibling(name, kind), cls).from_bundle(folder, threads)


def own_program(argv: list[str] | None):
    """The bundle's own command line (`main` of its kind's file) when its kind is in PROGRAMS."""
    raw = list(sys.argv[1:] if argv is None else argv)
    folder = Path(raw[raw.index("--bundle") + 1]) if "--bundle" in raw[:-1] else HERE
    try:
        kind = load_config(folder).get("kind")
    except InputError:
        return None
    return (lambda: load_sibling(KINDS[kind][0], kind).main(raw)) if kind in PROGRAMS else None


def is_writer(config: dict) -> bool:
    return bool(config.get("output_column"))


def environment() -> dict:
    """The machine and the versions of what this process loaded (None: a package it never needed)."""
    loaded = lambda name: getattr(sys.modules.get(name), "__version__", None)  # noqa: E731
    return {"machine": platform.machine(), "python": platform.python_version(),
            "onnxruntime": loaded("onnxruntime"), "numpy": np.__version__, "tokenizers": loaded("tokenizers"),
            "emulated": os.environ.get("KLLM_EMULATED") == "1"}


def peak_rss_mb() -> float | None:
    """This program's peak resident memory so far, in MB: Linux's VmHWM, which starts afresh at
    exec (getrusage's ru_maxrss keeps the peak of the process that forked it); None elsewhere."""
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    kb = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    return round(int(kb[0]) / 1024, 1) if kb else None


def smoke_rows(folder: Path) -> list[dict]:
    path = Path(folder) / "smoke.jsonl"
    if not path.is_file():
        raise InputError(f"no smoke.jsonl in {folder}: the self-test compares this machine's outputs with the "
                         f"host's, which the bundle step writes there")
    with reading_bundle(folder):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if not all(isinstance(r, dict) and "text" in r for r in rows):
        raise InputError(f"{path} is not the bundle step's smoke inputs (a JSON object with a text, one a line)")
    return rows


def smoke_input(row: dict):
    return (row["text"], row["text_pair"]) if "text_pair" in row else row["text"]


def self_test(folder: Path, threads: int) -> dict:
    """Probabilities of the bundle's smoke inputs here vs the ones the host computed at bundle
    time; a writer's outputs vs the host's, which must be the same text."""
    config, rows = load_config(folder), smoke_rows(folder)
    if is_writer(config):
        return writer_self_test(folder, rows, threads)
    model = open_bundle(folder, threads)
    with reading_bundle(folder):   # a smoke.jsonl or config that the bundle step did not write
        probs = model.predict_proba([smoke_input(r) for r in rows])
        diff = float(np.max(np.abs(probs - np.asarray([r["probs"] for r in rows])))) if rows else 0.0
        tolerance = float(config["smoke_tolerance"])
    report = environment()
    report.update({"inputs": len(rows), "probs": np.round(probs, 8).tolist(),
                   "max_abs_diff": diff, "tolerance": tolerance})
    report["ok"] = bool(rows) and diff <= tolerance
    return report


def writer_self_test(folder: Path, rows: list[dict], threads: int) -> dict:
    """A writer's outputs vs the host's; a writer with its own check (self_check: an essay plan with
    an LM, whose smoke rows carry their attack) judges its rows itself."""
    writer = open_bundle(folder, threads)
    if hasattr(writer, "self_check") and rows and all("attack" in r for r in rows):
        with reading_bundle(folder):
            checked = writer.self_check(rows, float(load_config(folder)["smoke_tolerance"]))
        return {**environment(), **checked}
    with reading_bundle(folder):
        got = [out[writer.output] for out in writer.write([smoke_input(r) for r in rows])]
        wrong = [(r["output"], g) for r, g in zip(rows, got) if g != r["output"]]
    report = environment()
    report.update({"inputs": len(rows), "mismatches": len(wrong), "ok": bool(rows) and not wrong})
    if wrong:
        report["first_mismatch"] = {"host": wrong[0][0][:200], "here": wrong[0][1][:200]}
    return report


def bench(folder: Path, inputs: list, threads: list[int], repeats: int) -> list[dict]:
    """Latency per input at batch 1 (tokenization + inference, or one writer call): every input
    `repeats` times after one warm-up pass; one row per thread count with p50_ms, p95_ms and
    this process's peak memory so far (peak_rss_mb)."""
    rows = []
    for n in threads:
        model = open_bundle(folder, n)
        step = model.write if is_writer(load_config(folder)) else model.logits
        for x in inputs:
            step([x])
        times = []
        for _ in range(repeats):
            for x in inputs:
                start = time.perf_counter()
                step([x])
                times.append((time.perf_counter() - start) * 1000.0)
        times.sort()
        row = {"threads": n, "batch": 1, "runs": len(times), "p50_ms": round(statistics.median(times), 3),
               "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3), "peak_rss_mb": peak_rss_mb()}
        row.update(environment())
        if row["emulated"]:
            row["note"] = EMULATED_NOTE
        rows.append(row)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = OneLineParser(description="Class probabilities (or a writer bundle's texts) for each input.")
    p.add_argument("--file", help="read inputs from this file instead of stdin")
    p.add_argument("--format", choices=["lines", "jsonl", "csv"], default="lines",
                   help="lines: one input per line; jsonl: a JSON string or {\"text\": ...} per line; "
                   "csv: a header, then one input per row")
    p.add_argument("--json", action="store_true", help="print JSON lines with index, label and probs")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    p.add_argument("--batch-size", type=int, default=None,
                   help="inputs per session run (default: the bundle's; 1 for dynamic int8)")
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="refuse bigger input")
    p.add_argument("--bundle", default=str(HERE), help="bundle folder (default: this file's folder)")
    p.add_argument("--self-test", action="store_true", help="check smoke.jsonl; print the machine")
    p.add_argument("--bench", action="store_true", help="latency p50/p95 at batch 1 (smoke inputs "
                   "unless --file is given)")
    p.add_argument("--bench-threads", default="1,4", help="comma-separated thread counts")
    p.add_argument("--bench-repeats", type=int, default=10)
    args = p.parse_args(argv)
    try:
        args.bench_threads = [int(t) for t in args.bench_threads.split(",") if t.strip()]
    except ValueError:
        p.error(f"--bench-threads wants comma-separated integers, got {args.bench_threads!r}")
    numbers = [args.threads, 1 if args.batch_size is None else args.batch_size, args.max_bytes,
               args.bench_repeats, *args.bench_threads]
    if not args.bench_threads or min(numbers) < 1:
        p.error("--bench-threads, --threads, --batch-size, --max-bytes and --bench-repeats must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    program = own_program(argv)
    if program is not None:
        return program()
    args = parse_args(argv)
    folder = Path(args.bundle)
    try:
        check_threads([args.threads, *args.bench_threads])
        if args.self_test:
            report = self_test(folder, args.threads)
            print(json.dumps(report))
            return 0 if report["ok"] else 1
        config = load_config(folder)
        pairs, columns = bool(config.get("pairs", False)), tuple(config.get("input_columns", ()))
        if args.bench:
            inputs = (parse_inputs(read_input(args.file, args.max_bytes), args.format, pairs, columns) if args.file
                      else [smoke_input(r) for r in smoke_rows(folder)])
            for row in bench(folder, inputs, args.bench_threads, args.bench_repeats):
                print(json.dumps(row))
            return 0
        records = parse_records(read_input(args.file, args.max_bytes), args.format, pairs, columns)
        model = open_bundle(folder, args.threads)
        if is_writer(config):
            try:
                written = model.write([item for _, item in records])
            except ValueError as exc:   # a writer's word for bad input
                raise InputError(str(exc)) from None
            print_written([key for key, _ in records], written, model.output, args.json)
            return 0
        probs = model.predict_proba([item for _, item in records], args.batch_size)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    threshold = float(model.config["threshold"])
    submission = model.config.get("submission") or []
    if args.format == "csv" and submission and not args.json:   # a Kaggle test file: answered in its form
        print_submission([key for key, _ in records], probs, submission, model.positive_index)
        return 0
    for i, (row, (key, _)) in enumerate(zip(probs, records)):
        print(format_row(i, row, model.labels, model.positive_index, threshold, args.json, key))
    return 0


def print_submission(ids: list, probs, columns: list, positive_index: int) -> None:
    """CSV in Kaggle's submission form: the id, then the positive class's probability (one
    column) or every class's (one column each)."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(columns)
    for key, row in zip(ids, probs):
        values = [row[positive_index]] if len(columns) == 2 else list(row)
        out.writerow([key, *(f"{float(p):.6f}" for p in values)])


def print_written(ids: list, written: list[dict], column: str, as_json: bool) -> None:
    """A writer's outputs: CSV `id,<column>` (Kaggle's submission form), or JSON lines with every
    field the writer gives (e.g. the attack an essay uses)."""
    if as_json:
        for key, row in zip(ids, written):
            print(json.dumps({"id": key, **row}))
        return
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", column])
    out.writerows([key, row[column]] for key, row in zip(ids, written))


if __name__ == "__main__":
    sys.exit(run_main(main))
