"""The on-device science-exam answerer: a question with options A-E in, the top 3 letters out.
Copied to the device as is; imports only onnxruntime, tokenizers, numpy and the standard library
(and beside it: causal_lm.py, the causal LM; retrieval.py, the passages' search;
choices.py, the letters from option scores; classifier.py, the encoder's session).

    python3 science.py --bundle BUNDLE --file test.csv          # Kaggle's id,prompt,A..E -> id,prediction
    python3 science.py --bundle BUNDLE --file q.jsonl --json    # {"prompt", "A".."E"} per line
    python3 science.py --bundle BUNDLE --self-test              # smoke.jsonl's questions vs the host's
    python3 science.py --bundle BUNDLE --bench --file q.jsonl   # latency per question at batch 1

The host's `lm_rag` pipeline (competitions/science_exam), step by step:
1. query = "prompt A B C D E"; one encoding with the int8 ONNX MiniLM (mean pooled, L2-normalized).
2. Passages: TF-IDF (the host's vocabulary and idf, sublinear tf, unigrams + bigrams, English stop
   words) and dense (cosine against the shipped passage embeddings) rankings of `candidates`
   each, fused by reciprocal rank fusion, top `top_k` joined by newlines, cut to `context_words`.
3. Solved examples: the `examples` most similar solved train questions (cosine), most similar last.
4. prefix = "<passages>\\n\\n<examples>\\n\\nQuestion: <prompt>\\nAnswer:"; each option " <text>" is
   scored by its mean token log-likelihood after the prefix with the causal LM. The prefix runs
   once; its KV cache is reused for the five options.
5. When the bundle has the fine-tuned multiple-choice model (choice.onnx, the host's
   `finetuned_mc`): one logit per (first `context_words` words of the passages, "<prompt> Answer:
   <option>") pair, and the two members' per-question ranks averaged with the host's weights
   (common/ensemble.py rank_average: the host's `ensemble`).

Bundle files: config.json (settings), encoder.onnx + encoder_tokenizer.json, index.npz (passage
embeddings float16, the TF-IDF matrix term-major, the memory's embeddings), passages.json,
vocabulary.json (terms, idf, stop words), examples.json, and the causal LM as causal_lm.py reads
it (genai_config.json, model.onnx + model.onnx.data, tokenizer.json) in the bundle folder itself;
with the ensemble, choice.onnx + choice_tokenizer.json and config settings["choice"].
detect.py hands a bundle of this kind to main() here, so the deploy's `detect.py --self-test` and
`kllm edge run` run this program.
"""
from __future__ import annotations

import csv
import functools
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


@functools.lru_cache(maxsize=None)
def _sibling(name: str):
    """The runtime file `name` beside this one (causal_lm.py: the causal LM; classifier.py:
    the encoder session; choices.py, records.py and retrieval.py), loaded once, without writing __pycache__."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"kllm_{Path(name).stem}", HERE / name)
    module = importlib.util.module_from_spec(spec)
    writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes
    return module


if __package__:     # imported on the host as edge.runtime.science
    from . import choices, records, retrieval
else:               # in a bundle folder, loaded by detect.py
    choices, records, retrieval = _sibling("choices.py"), _sibling("records.py"), _sibling("retrieval.py")


def build_prefix(prompt: str, context: str | None) -> str:
    question = f"Question: {prompt.strip()}\nAnswer:"
    return f"{context.strip()}\n\n{question}" if context else question


class ChoiceScorer:
    """The fine-tuned multiple-choice model as an ONNX pair scorer (edge/retriever/choice.py): one
    logit per (first, second) pair, each pair run alone (dynamic int8 rounds by the whole batch).

        ChoiceScorer(Path("bundle"), threads=1, max_length=48).scores("Plants make food.", ["Q Answer: a", ...])
    """

    def __init__(self, folder: Path, threads: int, max_length: int):
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(folder) / "choice_tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(max_length=max_length)       # longest side first, as the host's
        self.session = _sibling("classifier.py").encoder_session(Path(folder) / "choice.onnx", threads)
        self.names = [i.name for i in self.session.get_inputs()]

    def scores(self, first: str, seconds: list[str]) -> list[float]:
        out = []
        for second in seconds:
            e = self.tokenizer.encode(first, second)
            columns = {"input_ids": e.ids, "attention_mask": e.attention_mask, "token_type_ids": e.type_ids}
            feeds = {name: np.asarray([columns[name]], dtype=np.int64) for name in self.names}
            out.append(float(self.session.run(["logits"], feeds)[0][0, 0]))
        return out


def option_scores(lm, prefix: str, options: list[str], norm: str = "mean") -> list[float]:
    """Mean (or sum) token log-likelihood of each " <option>" after `prefix` under `lm` (causal_lm.py's
    CausalLM, which runs the prefix once and reuses its KV cache for every option).

        option_scores(lm, "Question: Which gas do plants take in?\nAnswer:", ["oxygen", "carbon dioxide"])
    """
    return lm.continuation_scores(prefix, [f" {option.strip()}" for option in options], norm)


class Answerer:
    """A science-exam bundle loaded for inference.

        qa = Answerer.from_bundle(Path("bundle"), threads=1)
        qa.answer("Which gas do plants take in?", ["oxygen", "carbon dioxide", ...])
        # -> {"prediction": "B A E", "scores": [...], "context": "..."}
    """

    output = "prediction"

    def __init__(self, folder: Path, threads: int = 1, lm=None):
        folder = Path(folder)
        self.config = config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        s = config["settings"]
        self.top_k, self.candidates, self.examples = int(s["top_k"]), int(s["candidates"]), int(s["examples"])
        self.context_words, self.rrf_k, self.norm = int(s["context_words"]), float(s["rrf_k"]), s["lm_norm"]
        self.encoder = retrieval.Encoder(_sibling("classifier.py").encoder_session(folder / "encoder.onnx", threads),
                                         folder / "encoder_tokenizer.json", int(s["max_seq_length"]))
        index = np.load(folder / "index.npz")
        self.passages = json.loads((folder / "passages.json").read_text(encoding="utf-8"))
        vocab = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
        self.sparse = retrieval.SparseIndex(vocab["terms"], np.asarray(vocab["idf"]), vocab["stop_words"], index["tfidf_indptr"],
                                  index["tfidf_rows"], index["tfidf_values"], len(self.passages))
        self.dense_vectors = index["dense_vectors"]          # (P, D) float16, rows of dense_ids
        self.dense_ids = index["dense_ids"]                  # (P,) passage index of each row
        self.memory_vectors = index["memory_vectors"]        # (M, D) float16
        self.memory = json.loads((folder / "examples.json").read_text(encoding="utf-8"))
        self.lm = lm if lm is not None else _sibling("causal_lm.py").CausalLM(folder, threads=threads)
        choice = s.get("choice")
        self.choice = ChoiceScorer(folder, threads, int(choice["max_length"])) if choice else None
        self.choice_words = int(choice["context_words"]) if choice else 0
        self.lm_weight = float(choice["lm_weight"]) if choice else 1.0

    @classmethod
    def from_bundle(cls, folder: Path, threads: int = 1) -> "Answerer":
        return cls(folder, threads)

    def context(self, prompt: str, options: list[str]) -> str:
        """The passages and solved examples the host's lm_rag puts before the question."""
        return "\n\n".join(p for p in self.retrieve(prompt, options) if p)

    def retrieve(self, prompt: str, options: list[str]) -> tuple[str, str]:
        """(the passages, cut to context_words; the solved examples), each "" when there are none."""
        query = retrieval.query_text(prompt, options)
        vector = self.encoder.encode([query])[0]
        parts = ["", ""]
        if self.top_k:
            sims = self.dense_vectors.astype(np.float32) @ vector                          # (P,)
            dense = [int(self.dense_ids[i]) for i in np.argsort(-sims, kind="stable")[:self.candidates]]
            ids = retrieval.rrf([dense, self.sparse.search(query, self.candidates)], self.top_k, self.rrf_k)
            parts[0] = retrieval.truncate_words("\n".join(self.passages[i] for i in ids), self.context_words)
        if self.examples and len(self.memory):
            sims = self.memory_vectors.astype(np.float32) @ vector                         # (M,)
            near = np.argsort(-sims, kind="stable")[:self.examples]
            parts[1] = "\n\n".join(self.memory[j] for j in near[::-1])
        return parts[0], parts[1]

    def option_scores(self, prefix: str, options: list[str]) -> list[float]:
        return option_scores(self.lm, prefix, options, self.norm)

    def answer(self, prompt: str, options: list[str]) -> dict:
        if len(options) != len(choices.OPTIONS) or not prompt.strip() or not all(o.strip() for o in options):
            raise ValueError("a question needs a prompt and five non-empty options A-E")
        passages, examples = self.retrieve(prompt, options)
        context = "\n\n".join(p for p in (passages, examples) if p)
        scores = self.option_scores(build_prefix(prompt, context), options)
        if self.choice is None:
            return {"prediction": choices.top_letters(scores), "scores": scores, "context": context}
        choice = self.choice.scores(retrieval.truncate_words(passages, self.choice_words) if self.choice_words else "",
                                    [f"{prompt} Answer: {o}" for o in options])
        blend = choices.rank_blend([scores, choice], [self.lm_weight, 1 - self.lm_weight])
        return {"prediction": choices.top_letters(blend), "scores": scores, "choice_scores": choice, "context": context}

    def write(self, questions: list) -> list[dict]:
        """One answer per question, in order: a (prompt, A, B, C, D, E) tuple or a JSON object
        text with those keys."""
        return [self.answer(q[0], list(q[1:])) for q in map(choices.as_question, questions)]


def open_answerer(folder: Path, threads: int) -> Answerer:
    """The bundle's Answerer; a missing or damaged file (or another kind's bundle) is one InputError."""
    records.load_config(folder)
    with records.reading_bundle(folder):
        return Answerer(folder, threads)


def smoke_rows(folder: Path) -> list[dict]:
    """smoke.jsonl's rows: the questions the bundle step answered on the host, with its answers."""
    path = Path(folder) / "smoke.jsonl"
    if not path.is_file():
        raise records.InputError(f"no smoke.jsonl in {folder}: the self-test compares this machine's answers with "
                                 f"the host's, which the bundle step writes there")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def self_test(folder: Path, threads: int) -> dict:
    """smoke.jsonl's questions answered here vs the host's device-runtime answers at bundle time:
    the same context and letters, scores (and the multiple-choice model's, when shipped) within the
    config's smoke_tolerance."""
    import platform

    qa = open_answerer(folder, threads)
    with records.reading_bundle(folder):   # a smoke.jsonl or config that the bundle step did not write
        rows = smoke_rows(folder)
        got = qa.write([tuple(r["question"]) for r in rows])
        members = ("scores", "choice_scores") if qa.choice is not None else ("scores",)
        diff = max(float(np.max(np.abs(np.subtract(g[m], r[m])))) for g, r in zip(got, rows) for m in members)
        same = sum(g["prediction"] == r["prediction"] for g, r in zip(got, rows))
        contexts = sum(g["context"] == r.get("context") for g, r in zip(got, rows))
        tolerance = float(qa.config["smoke_tolerance"])
    ties = sum(g["prediction"] != r["prediction"] and all(choices.swapped_within(g[m], r[m], 2 * tolerance) for m in members)
               for g, r in zip(got, rows))
    return {"machine": platform.machine(), "python": platform.python_version(), "inputs": len(rows),
            "same_context": contexts, "same_letters": same, "near_tie_letters": ties, "max_abs_diff": diff,
            "tolerance": tolerance, "scores": [g["scores"] for g in got],
            "ok": bool(rows) and same + ties == contexts == len(rows) and diff <= tolerance}


def bench(folder: Path, questions: list[tuple], threads: int, repeats: int) -> dict:
    """Latency per question at batch 1 (retrieval + LM), after one warm-up question; peak memory."""
    qa = open_answerer(folder, threads)
    qa.write(questions[:1])
    times = []
    for _ in range(repeats):
        for q in questions:
            start = time.perf_counter()
            qa.write([q])
            times.append((time.perf_counter() - start) * 1000.0)
    times.sort()
    return {"threads": threads, "batch": 1, "runs": len(times), "p50_ms": round(statistics.median(times), 3),
            "p95_ms": round(times[min(len(times) - 1, int(0.95 * len(times)))], 3),
            "peak_rss_mb": _sibling("lm_measure.py").peak_rss_mb()}


def main(argv: list[str] | None = None) -> int:
    p = records.OneLineParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", default=str(HERE))
    p.add_argument("--file", help="questions (default: stdin)")
    p.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    p.add_argument("--json", action="store_true", help="JSON lines with id, prediction, scores")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--self-test", action="store_true")
    p.add_argument("--bench", action="store_true")
    p.add_argument("--bench-repeats", type=int, default=1)
    p.add_argument("--bench-threads", default=None, help="detect.py's flag: the first count is used")
    p.add_argument("--max-bytes", type=int, default=records.DEFAULT_MAX_BYTES, help="refuse bigger input")
    p.add_argument("--batch-size", type=int, default=None, help="accepted for detect.py's command line")
    args = p.parse_args(argv)
    folder = Path(args.bundle)
    try:
        if args.bench_threads:
            first = args.bench_threads.split(",")[0].strip()
            if not first.isdigit():
                raise ValueError(f"--bench-threads takes comma-separated integers, got {args.bench_threads!r}")
            args.threads = int(first)
        if min(args.threads, args.bench_repeats, args.max_bytes,
               1 if args.batch_size is None else args.batch_size) < 1:
            raise ValueError("--threads, --bench-threads, --bench-repeats, --max-bytes and --batch-size must be at least 1")
        records.check_threads([args.threads])
        if args.self_test:
            report = self_test(folder, args.threads)
            print(json.dumps(report))
            return 0 if report["ok"] else 1
        if args.bench and not args.file:
            with records.reading_bundle(folder):
                questions = [(i, tuple(r["question"])) for i, r in enumerate(smoke_rows(folder))]
        else:
            text = records.decode_text(records.read_input(args.file, args.max_bytes))
            questions = choices.read_questions(text, args.format, records.csv_rows)
        if args.bench:
            print(json.dumps(bench(folder, [q for _, q in questions], args.threads, args.bench_repeats)))
            return 0
        answers = open_answerer(folder, args.threads).write([q for _, q in questions])
    except (records.InputError, ValueError, OSError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        for (key, _), a in zip(questions, answers):
            print(json.dumps({"id": key, "prediction": a["prediction"], "scores": a["scores"]}))
    else:
        out = csv.writer(sys.stdout, lineterminator="\n")
        out.writerow(["id", "prediction"])
        out.writerows([key, a["prediction"]] for (key, _), a in zip(questions, answers))
    return 0


if __name__ == "__main__":
    sys.exit(records.run_main(main))
