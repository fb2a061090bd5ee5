"""The on-device detector: texts in, probability of "AI-generated" out. Copied to the device as is.

Imports only onnxruntime, tokenizers, numpy and the standard library. It reads the bundle it sits
in: model.onnx, tokenizer.json and config.json (max_length, labels, output kind, input names).

    python3 detect.py < essays.txt                  # one text per line -> one probability per line
    python3 detect.py --file essays.jsonl --format jsonl --json   # texts with newlines, JSON out
    python3 detect.py --self-test                   # the bundle's smoke texts vs the host's numbers
    python3 detect.py --bench --bench-threads 1,4   # latency p50/p95 per text at batch 1

Bad input (empty, over --max-bytes, not UTF-8, a blank line) prints one `error:` line on stderr
and exits with code 2.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

HERE = Path(__file__).resolve().parent
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
EMULATED_NOTE = "emulated under qemu: these timings say nothing about Raspberry Pi speed"


class InputError(Exception):
    """Bad input; main() prints it as one line and exits with code 2."""


def load_config(folder: Path) -> dict:
    path = Path(folder) / "config.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"no config.json in {folder}: not a bundle folder") from None


class Detector:
    """A bundle loaded for inference.

        det = Detector(Path("bundle"), threads=1)
        det.predict_proba(["some essay", "another"])  # -> np.ndarray (2,) of P(AI-generated)
    """

    def __init__(self, folder: Path, threads: int = 1):
        folder = Path(folder)
        self.config = load_config(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=int(self.config["max_length"]))
        self.tokenizer.enable_padding(pad_id=int(self.config["pad_id"]), pad_token=self.config["pad_token"])
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(folder / "model.onnx"), options,
                                            providers=["CPUExecutionProvider"])
        wanted = {i.name for i in self.session.get_inputs()}
        unknown = wanted - {"input_ids", "attention_mask", "token_type_ids"}
        if unknown:
            raise InputError(f"model wants inputs this runtime cannot build: {sorted(unknown)}")
        self.input_names = [n for n in self.config["input_names"] if n in wanted]

    def feeds(self, texts: list[str]) -> dict[str, np.ndarray]:
        encodings = self.tokenizer.encode_batch(texts)
        columns = {"input_ids": [e.ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.input_names}  # (B, T)

    def logits(self, texts: list[str]) -> np.ndarray:
        (out,) = self.session.run([self.config["output_name"]], self.feeds(texts))
        return np.asarray(out, dtype=np.float64).reshape(len(texts), -1)  # (B, K), K = 1 or 2

    def predict_proba(self, texts: list[str], batch_size: int = 8) -> np.ndarray:
        probs = [self._proba(self.logits(texts[i:i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.concatenate(probs) if probs else np.zeros(0)

    def _proba(self, logits: np.ndarray) -> np.ndarray:
        if self.config["output"] == "sigmoid":  # one logit: the AI-generated class
            return 1.0 / (1.0 + np.exp(-logits[:, 0]))
        shifted = logits - logits.max(axis=1, keepdims=True)
        soft = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        return soft[:, int(self.config["positive_index"])]


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


def parse_texts(data: bytes, fmt: str = "lines") -> list[str]:
    """Bytes -> texts. lines: one text per line. jsonl: one JSON string or {"text": ...} per line."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"input is not valid UTF-8 (bad byte at offset {exc.start})") from None
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputError("input is empty: give one text per line on stdin or with --file")
    texts = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            raise InputError(f"line {number} is blank: every line must hold one text")
        texts.append(line if fmt == "lines" else _json_text(line, number))
    return texts


def _json_text(line: str, number: int) -> str:
    try:
        item = json.loads(line)
    except json.JSONDecodeError:
        raise InputError(f"line {number} is not valid JSON") from None
    text = item.get("text") if isinstance(item, dict) else item
    if not isinstance(text, str) or not text.strip():
        raise InputError(f'line {number} holds no text: use a JSON string or {{"text": "..."}}')
    return text


def environment() -> dict:
    import tokenizers
    return {"machine": platform.machine(), "python": platform.python_version(),
            "onnxruntime": ort.__version__, "numpy": np.__version__, "tokenizers": tokenizers.__version__,
            "emulated": os.environ.get("KLLM_EMULATED") == "1"}


def self_test(folder: Path, threads: int) -> dict:
    """Probabilities of the bundle's smoke texts here vs the ones the host computed at bundle time."""
    config = load_config(folder)
    rows = [json.loads(line) for line in (folder / "smoke.jsonl").read_text(encoding="utf-8").splitlines()]
    probs = Detector(folder, threads).predict_proba([r["text"] for r in rows])
    diff = float(np.max(np.abs(probs - np.asarray([r["prob_ai"] for r in rows])))) if rows else 0.0
    report = environment()
    report.update({"texts": len(rows), "probs": [round(float(p), 8) for p in probs],
                   "max_abs_diff": diff, "tolerance": config["smoke_tolerance"]})
    report["ok"] = bool(rows) and diff <= float(config["smoke_tolerance"])
    return report


def bench(folder: Path, texts: list[str], threads: list[int], repeats: int) -> list[dict]:
    """Latency per text at batch 1 (tokenization + inference): every text `repeats` times after one
    warm-up pass; one row per thread count with p50_ms and p95_ms."""
    rows = []
    for n in threads:
        det = Detector(folder, n)
        for t in texts:
            det.logits([t])
        times = []
        for _ in range(repeats):
            for t in texts:
                start = time.perf_counter()
                det.logits([t])
                times.append((time.perf_counter() - start) * 1000.0)
        times.sort()
        row = {"threads": n, "batch": 1, "runs": len(times), "p50_ms": round(statistics.median(times), 3),
               "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3)}
        row.update(environment())
        if row["emulated"]:
            row["note"] = EMULATED_NOTE
        rows.append(row)
    return rows


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="P(AI-generated) for each input text.")
    p.add_argument("--file", help="read texts from this file instead of stdin")
    p.add_argument("--format", choices=["lines", "jsonl"], default="lines",
                   help="lines: one text per line; jsonl: a JSON string or {\"text\": ...} per line")
    p.add_argument("--json", action="store_true", help="print JSON lines with index, prob_ai and label")
    p.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-bytes", type=int, default=DEFAULT_MAX_BYTES, help="refuse bigger input")
    p.add_argument("--bundle", default=str(HERE), help="bundle folder (default: this file's folder)")
    p.add_argument("--self-test", action="store_true", help="check smoke.jsonl; print the machine")
    p.add_argument("--bench", action="store_true", help="latency p50/p95 at batch 1 (smoke texts "
                   "unless --file is given)")
    p.add_argument("--bench-threads", default="1,4", help="comma-separated thread counts")
    p.add_argument("--bench-repeats", type=int, default=10)
    args = p.parse_args(argv)
    try:
        args.bench_threads = [int(t) for t in args.bench_threads.split(",") if t.strip()]
    except ValueError:
        p.error(f"--bench-threads wants comma-separated integers, got {args.bench_threads!r}")
    numbers = [args.threads, args.batch_size, args.max_bytes, args.bench_repeats, *args.bench_threads]
    if not args.bench_threads or min(numbers) < 1:
        p.error("--bench-threads, --threads, --batch-size, --max-bytes and --bench-repeats must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(args.bundle)
    try:
        if args.self_test:
            report = self_test(folder, args.threads)
            print(json.dumps(report))
            return 0 if report["ok"] else 1
        if args.bench:
            if args.file:
                texts = parse_texts(read_input(args.file, args.max_bytes), args.format)
            else:
                texts = [json.loads(line)["text"] for line in (folder / "smoke.jsonl").read_text("utf-8").splitlines()]
            for row in bench(folder, texts, args.bench_threads, args.bench_repeats):
                print(json.dumps(row))
            return 0
        texts = parse_texts(read_input(args.file, args.max_bytes), args.format)
        det = Detector(folder, args.threads)
        probs = det.predict_proba(texts, args.batch_size)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    labels, threshold = det.config["labels"], float(det.config["threshold"])
    positive = labels[int(det.config["positive_index"])]
    negative = next((name for name in labels if name != positive), "not-" + positive)
    for i, p in enumerate(probs):
        if args.json:
            print(json.dumps({"index": i, "prob_ai": round(float(p), 8),
                              "label": positive if p >= threshold else negative}))
        else:
            print(f"{p:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
