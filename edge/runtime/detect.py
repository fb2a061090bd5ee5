"""The bundle's command line on the device: texts or text pairs in, class probabilities (or,
for a writer bundle, texts) out. Copied to the device as is.

Imports only onnxruntime, tokenizers, numpy and the standard library (onnxruntime and tokenizers
only when a model runs). It reads the bundle it sits in: model.onnx, tokenizer.json and
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
with --json {"index", "prob_<positive>", "label", "probs"} (label: positive at or above the
threshold). More classes: every class's probability per line in label order, or with --json
{"index", "label", "probs"} (label: the most probable). A pair bundle reads "text<TAB>text_pair"
lines, or JSON lines {"text": ..., "text_pair": ...} or ["text", "text_pair"], or (--format
csv) a CSV with a header: columns text[,text_pair], or Kaggle's Question,Response (else the
first one or two columns). A writer prints a CSV in Kaggle's submission form (id, then its
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
import io
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
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_BATCH_SIZE = 8   # a bundle's config.json may say otherwise (1 for dynamic int8)
EMULATED_NOTE = "emulated under qemu: these timings say nothing about Raspberry Pi speed"
# onnxruntime 1.32's CPU SkipLayerNormalization is slower than the Add + LayerNormalization it
# replaces (the detector student: 0.93 against 0.21-0.38 ms a text, `make bench BENCH=encoder_fusions`):
# encoders are exported without it, and sessions must not fuse it back at load
ENCODER_DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


class InputError(Exception):
    """Bad input; main() prints it as one line and exits with code 2."""


class OneLineParser(argparse.ArgumentParser):
    """A bad flag is one `error:` line on stderr and exit code 2, as bad input is (no usage block)."""

    def error(self, message):
        self.exit(2, f"error: {self.prog}: {message} (see --help)\n")


def load_config(folder: Path) -> dict:
    path = Path(folder) / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no config.json in {folder}: not a bundle folder") from None


def open_bundle(folder: Path, threads: int = 1):
    """What the bundle runs: Classifier below, or for a kind in KINDS that file's class (loaded
    from beside this file, which the bundle holds). A writer has `output` (its column) and
    write(inputs) -> one dict per input; a classifier has predict_proba and logits."""
    kind = load_config(folder).get("kind")
    if kind not in KINDS:
        return Classifier(folder, threads)

    name, cls = KINDS[kind]
    return getattr(load_sibling(name, kind), cls).from_bundle(folder, threads)


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


def own_program(argv: list[str] | None):
    """The bundle's own command line (`main` of its kind's file) when its kind is in PROGRAMS."""
    raw = list(sys.argv[1:] if argv is None else argv)
    folder = Path(raw[raw.index("--bundle") + 1]) if "--bundle" in raw[:-1] else HERE
    try:
        kind = load_config(folder).get("kind")
    except InputError:
        return None
    return (lambda: load_sibling(KINDS[kind][0], kind).main(raw)) if kind in PROGRAMS else None


def encoder_session(model: Path, threads: int = 1, optimized_model_file: str | None = None):
    """An onnxruntime CPU session for an encoder (a classifier, a sentence encoder) at `threads`
    intra-op threads, with ENCODER_DISABLED_OPTIMIZERS off; optimized_model_file: also write the
    graph as optimized there (to inspect it).

        session = encoder_session(Path("bundle/model.onnx"), threads=1)
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if optimized_model_file:
        options.optimized_model_filepath = str(optimized_model_file)
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"],
                                disabled_optimizers=ENCODER_DISABLED_OPTIMIZERS)


def is_writer(config: dict) -> bool:
    return bool(config.get("output_column"))


class Classifier:
    """A bundle loaded for inference.

        clf = Classifier(Path("bundle"), threads=1)
        clf.predict_proba(["some essay", "another"])     # -> np.ndarray (2, n_classes)
        clf.predict_proba([("a question", "a response")])   # a pair bundle
    """

    def __init__(self, folder: Path, threads: int = 1):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.config = load_config(folder)
        self.labels = list(self.config["labels"])
        self.positive_index = int(self.config["positive_index"])
        self.pairs = bool(self.config.get("pairs", False))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(self.config["max_length"]))  # longest side first
        self.tokenizer.enable_padding(pad_id=int(self.config["pad_id"]), pad_token=self.config["pad_token"])
        self.session = encoder_session(folder / "model.onnx", threads)
        wanted = {i.name for i in self.session.get_inputs()}
        unknown = wanted - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise InputError(f"model wants inputs this runtime cannot build: {sorted(unknown)}")
        self.input_names = [n for n in self.config["input_names"] if n in wanted]

    def feeds(self, inputs: list) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch([tuple(x) if self.pairs else x for x in inputs])
        columns = {"input_ids": [e.ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.input_names}  # (B, T)

    def logits(self, inputs: list) -> np.ndarray:
        (out,) = self.session.run([self.config["output_name"]], self.feeds(inputs))
        return np.asarray(out, dtype=np.float64).reshape(len(inputs), -1)  # (B, K) or (B, 1)

    def predict_proba(self, inputs: list, batch_size: int | None = None) -> np.ndarray:
        """batch_size None: the bundle's (1 for dynamic int8, whose outputs would move with their
        batch; else DEFAULT_BATCH_SIZE)."""
        batch_size = batch_size or int(self.config.get("batch_size", DEFAULT_BATCH_SIZE))
        probs = [self._proba(self.logits(inputs[i:i + batch_size])) for i in range(0, len(inputs), batch_size)]
        return np.concatenate(probs) if probs else np.zeros((0, len(self.labels)))

    def _proba(self, logits: np.ndarray) -> np.ndarray:
        if self.config["output"] == "sigmoid":  # one logit: the positive class of two
            p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
            return np.stack([p, 1 - p] if self.positive_index == 0 else [1 - p, p], axis=1)
        shifted = logits - logits.max(axis=1, keepdims=True)
        return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)  # (B, K)


def read_input(path: str | None, max_bytes: int) -> bytes:
    if path is None:
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            size = os.path.getsize(path)
        except OSError:
            raise InputError(f"cannot read input file: {path}") from None
        if size > max_bytes:
            raise InputError(f"input is {size} bytes, over the --max-bytes cap of {max_bytes}")
        data = Path(path).read_bytes()
    if len(data) > max_bytes:
        raise InputError(f"input is over the --max-bytes cap of {max_bytes} bytes")
    return data


# columns of one input in a CSV header (or JSON keys), tried in order after a bundle's own
CSV_COLUMNS = (("text", "text_pair"), ("Question", "Response"))


def parse_inputs(data: bytes, fmt: str = "lines", pairs: bool = False, columns: tuple = ()) -> list:
    """Bytes -> texts, or (text, text_pair) tuples for a pair bundle (see the module docstring)."""
    return [item for _, item in parse_records(data, fmt, pairs, columns)]


def parse_records(data: bytes, fmt: str = "lines", pairs: bool = False, columns: tuple = ()) -> list[tuple]:
    """(id, input) per input. columns: the bundle's own CSV columns / JSON keys of one input
    (tried before text[,text_pair] and Question,Response)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not valid UTF-8 (bad byte at offset {exc.start})") from None
    names = ((tuple(columns),) if columns else ()) + CSV_COLUMNS
    if fmt == "csv":
        return _csv_records(text, pairs, names)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputError("input is empty: give one input per line on stdin or with --file")
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise InputError(f"line {number} is blank: every line must hold one input")
        key, item = _json_record(line, number, names) if fmt == "jsonl" else \
            (None, tuple(line.split("\t", 1)) if pairs else line)
        records.append((number - 1 if key is None else key, _check_item(item, number, pairs)))
    return records


def _csv_records(text: str, pairs: bool, names: tuple) -> list[tuple]:
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) < 2:
        raise InputError("CSV input needs a header line and at least one row")
    header = [h.strip() for h in rows[0]]
    width = 2 if pairs else 1
    wanted = next((c[:width] for c in names if len(c) >= width and set(c[:width]) <= set(header)), None)
    if len(header) < width:
        raise InputError(f"CSV input needs {width} column(s), the header has {len(header)}")
    where = [header.index(c) for c in wanted] if wanted else list(range(width))
    key = header.index("id") if "id" in header and wanted else None
    records = []
    for number, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise InputError(f"CSV line {number} has {len(row)} fields, the header has {len(header)}")
        records.append((number - 2 if key is None else row[key], _check_item(tuple(row[i] for i in where), number, pairs)))
    return records


def _json_record(line: str, number: int, names: tuple):
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        raise InputError(f"line {number} is not valid JSON") from None
    if isinstance(item, dict):
        cols = next((c for c in names if set(c) <= set(item)), None) or \
            next((c[:1] for c in names if c[0] in item), ("text",))
        values = tuple(item.get(c) for c in cols)
        return item.get("id"), values if len(values) == 2 else values[0]
    return None, tuple(item) if isinstance(item, list) else item


def _check_item(item, number: int, pairs: bool):
    parts = item if isinstance(item, tuple) else (item,)
    if len(parts) == (2 if pairs else 1) and all(isinstance(p, str) and p.strip() for p in parts):
        return parts if pairs else parts[0]
    if pairs:
        raise InputError(f'line {number} holds no text pair: use "text<TAB>text_pair", '
                         '{"text": ..., "text_pair": ...} or ["text", "text_pair"]')
    raise InputError(f'line {number} holds no text: use a JSON string or {{"text": "..."}}')


def format_row(index: int, probs: np.ndarray, labels: list[str], positive_index: int, threshold: float,
               as_json: bool) -> str:
    """One output line for one input's class probabilities (see the module docstring)."""
    binary = len(labels) == 2
    p = float(probs[positive_index])
    if not as_json:
        return f"{p:.6f}" if binary else " ".join(f"{q:.6f}" for q in probs)
    row = {"index": index}
    if binary:
        row[f"prob_{labels[positive_index]}"] = round(p, 8)
        row["label"] = labels[positive_index] if p >= threshold else labels[1 - positive_index]
    else:
        row["label"] = labels[int(np.argmax(probs))]
    row["probs"] = {name: round(float(q), 8) for name, q in zip(labels, probs)}
    return json.dumps(row)


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
    return [json.loads(line) for line in (Path(folder) / "smoke.jsonl").read_text(encoding="utf-8").splitlines()]


def smoke_input(row: dict):
    return (row["text"], row["text_pair"]) if "text_pair" in row else row["text"]


def self_test(folder: Path, threads: int) -> dict:
    """Probabilities of the bundle's smoke inputs here vs the ones the host computed at bundle
    time; a writer's outputs vs the host's, which must be the same text."""
    config, rows = load_config(folder), smoke_rows(folder)
    if is_writer(config):
        return writer_self_test(folder, config, rows, threads)
    probs = open_bundle(folder, threads).predict_proba([smoke_input(r) for r in rows])
    diff = float(np.max(np.abs(probs - np.asarray([r["probs"] for r in rows])))) if rows else 0.0
    report = environment()
    report.update({"inputs": len(rows), "probs": np.round(probs, 8).tolist(),
                   "max_abs_diff": diff, "tolerance": config["smoke_tolerance"]})
    report["ok"] = bool(rows) and diff <= float(config["smoke_tolerance"])
    return report


def writer_self_test(folder: Path, config: dict, rows: list[dict], threads: int) -> dict:
    writer = open_bundle(folder, threads)
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
    for i, row in enumerate(probs):
        print(format_row(i, row, model.labels, model.positive_index, threshold, args.json))
    return 0


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
    sys.exit(main())
