"""The on-device causal LM's command line: greedy generation, chat, continuation scoring, the
smoke test and the device study's measurements. Copied to the device as is, with the files it
loads from beside it: causal_lm.py (the model), lm_chat.py (chat turns), lm_sampling.py (a token
drawn instead of the argmax), lm_measure.py (speed, memory, bandwidth) and records.py (the
command line's checks, shared with detect.py); together they import
only onnxruntime, tokenizers, numpy and the standard library (onnxruntime-genai is used for
generation when installed and asked for with --backend genai). It reads a model folder made by
onnxruntime-genai's model builder (edge/generator/export.py): genai_config.json, model.onnx (+
model.onnx.data) with a KV cache, tokenizer.json.

    python3 generate.py --model MODEL_DIR --prompt "The Roman Empire" --max-new-tokens 64
    python3 generate.py --model MODEL_DIR --chat --prompt "What is the capital of France?"
    python3 generate.py --model MODEL_DIR --chat          # one question a line on stdin, answers streamed
    python3 generate.py --model MODEL_DIR --chat --history   # the same, each question after the ones before
    python3 generate.py --model MODEL_DIR --chat --system "Answer in one word."   # a system message of one's own
    python3 generate.py --model MODEL_DIR --chat --temperature 0.7 --top-p 0.9 --repetition-penalty 1.2 --seed 1
    python3 generate.py --model MODEL_DIR --chat --no-repeat-ngram 4   # greedy, but no 4-token run twice
    python3 generate.py --model MODEL_DIR --chat --stats    # each answer's tokens, prefill ms, decode tok/s on stderr
    python3 generate.py --model MODEL_DIR --score --context "Q: 2+2? A:" --continuation " 4" --json
    python3 generate.py --model MODEL_DIR --self-test      # smoke.json's prompt vs the host's tokens
    python3 generate.py --model MODEL_DIR --bench --bench-threads 1,2 --json   # prefill/decode tok/s
    python3 generate.py --model MODEL_DIR --teacher-forced windows.json     # per-token NLL and argmax
    python3 generate.py --model MODEL_DIR --teacher-forced windows.json --decode-steps   # one token a step
    python3 generate.py --bandwidth --bench-threads 1,4       # GB/s read at each thread count (no model)

Generation is greedy (argmax), or drawn (lm_sampling.py: --temperature above 0, --top-k, --top-p;
--seed gives the same tokens again), either with a --repetition-penalty or --no-repeat-ngram N. --chat puts each prompt in the
model's own chat turn (chat.json beside the model, rendered from its template on the host:
edge/generator/chat.py), one turn per question (with --history, after the earlier questions and
answers, kept in the KV cache from turn to turn: lm_chat.Conversation); without it the prompt is
continued as plain text, and an instruction-tuned model may end at once on a bare question.
Scoring returns log p(continuation | context), summed and per token, teacher-forced in one forward
pass. Bad input prints one `error:` line and exits 2.
"""
from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

if __package__:     # imported on the host as edge.runtime.generate
    from . import causal_lm, lm_chat, lm_measure, lm_sampling, records
else:               # run as python3 [-I] generate.py: the files beside it, by path, without __pycache__
    sys.path.insert(0, str(HERE))
    sys.dont_write_bytecode = True
    try:
        import causal_lm
        import lm_chat
        import lm_measure
        import lm_sampling
        import records
    except Exception as exc:   # a runtime file beside this one missing or cut short (ImportError, SyntaxError, ...)
        print(f"error: the runtime files beside {HERE / 'generate.py'} are damaged or incomplete "
              f"({type(exc).__name__}: {exc}): delete the folder; the host stages it again on the next run",
              file=sys.stderr)
        sys.exit(2)
CausalLM, InputError, log_softmax = causal_lm.CausalLM, causal_lm.InputError, causal_lm.log_softmax
Sampler = lm_sampling.Sampler
OneLineParser, EMULATED_NOTE = records.OneLineParser, records.EMULATED_NOTE
MAX_BANDWIDTH_MB = 4096   # --bandwidth reads an array this big: a Pi 5 has 2 to 16 GB



def emulated() -> bool:
    """Whether this runs on the emulated Pi (qemu-user, which sets KLLM_EMULATED), not a real one."""
    return platform.machine() == "aarch64" and "KLLM_EMULATED" in os.environ


def spare_eos(pick, lm):
    """`pick` (a Sampler or None) with the model's end-of-turn ids spared its repetition penalty."""
    if pick is not None:
        pick.spare = frozenset(lm.eos_ids)
    return pick


def read_windows(path: Path) -> list[list[int]]:
    """A JSON list of token-id lists, each at least 2 long (InputError otherwise)."""
    try:
        windows = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read windows from {path}: {exc}") from None
    if not (isinstance(windows, list) and windows and all(
            isinstance(w, list) and len(w) >= 2 and all(type(t) is int and t >= 0 for t in w) for w in windows)):
        raise InputError(f"{path} must hold a JSON list of token-id lists, each at least 2 long")
    return windows


def read_smoke(folder: Path) -> dict:
    """smoke.json as the bundle step writes it: prompt_ids and the host's tokens (InputError otherwise)."""
    path = folder / "smoke.json"
    if not path.is_file():
        raise InputError(f"no smoke.json in {folder}: --self-test compares this model's greedy tokens "
                         f"with the host's, which it reads from there (self_test's docstring)")
    try:
        smoke = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    ids = lambda key: isinstance(smoke.get(key), list) and all(type(t) is int and t >= 0 for t in smoke[key])  # noqa: E731
    if not (isinstance(smoke, dict) and ids("prompt_ids") and ids("tokens") and smoke["prompt_ids"] and smoke["tokens"]):
        raise InputError(f"{path} is not the bundle step's smoke test (non-empty token-id lists prompt_ids and tokens)")
    return smoke


def genai_tokens(folder: Path, lm, ids: list[int], max_new_tokens: int, threads: int) -> list[int]:
    """The greedy tokens onnxruntime-genai generates, checked as the ort path checks its own."""
    lm.check_fits(len(ids), max_new_tokens)
    try:
        return lm_measure.genai_generate_ids(folder, ids, max_new_tokens, threads)
    except ImportError:
        raise InputError("--backend genai needs onnxruntime-genai installed (--backend ort, the default, "
                         "does not)") from None
    except RuntimeError as exc:   # its own refusals: an unknown model type, a length it cannot take
        raise InputError(f"onnxruntime-genai cannot run {folder}: {str(exc).strip()[:200]}") from None


def self_test(folder: Path) -> dict:
    """Greedy tokens of smoke.json's prompt here vs the host's (written by the bundle step). When
    smoke.json also has the host's teacher-forced log-probabilities of its tokens ("logprobs"),
    the host's sequence is scored here too: agreement is the share of its positions whose argmax
    here is the host's token, and max_logprob_diff the largest |difference| of those
    log-probabilities. A free-running continuation diverges for good at the first token whose
    argmax flips, so where kernels round differently (Arm against x86) the check passes when the
    teacher-forced agreement and difference are within smoke.json's min_agreement and
    logprob_tolerance; without them only identical tokens pass."""
    smoke = read_smoke(folder)
    lm = CausalLM(folder, threads=1)
    host = list(smoke["tokens"])
    got = lm.generate_ids(smoke["prompt_ids"], len(host), stop_at_eos=False)
    same = sum(1 for a, b in zip(got, host) if a == b)
    first_diff = next((i for i, (a, b) in enumerate(zip(got, host)) if a != b), None)
    result = {"machine": platform.machine(), "python": platform.python_version(), "tokens": got,
              "same": same, "of": len(host), "first_difference": first_diff, "ok": got == host}
    if "logprobs" in smoke and not result["ok"]:
        prompt = list(smoke["prompt_ids"])
        logp = log_softmax(lm.forward(prompt + host)[len(prompt) - 1:-1])          # (len(host), V)
        agreement = float(np.mean(logp.argmax(axis=1) == np.asarray(host)))
        diff = float(np.abs(logp[np.arange(len(host)), host] - np.asarray(smoke["logprobs"])).max())
        result.update(teacher_forced_agreement=agreement, max_logprob_diff=diff,
                      ok=agreement >= float(smoke.get("min_agreement", 1.0))
                      and diff <= float(smoke.get("logprob_tolerance", 0.0)))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(description="The on-device causal LM's command line: generate, chat, score, "
                                       "self-test, bench (the module docstring has examples).")
    parser.add_argument("--model", default=str(HERE / "model"))
    parser.add_argument("--prompt")
    parser.add_argument("--chat", action="store_true")
    parser.add_argument("--history", action="store_true")
    parser.add_argument("--system", help="with --chat: a system message of one's own instead of the template's")
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--backend", choices=["ort", "genai"], default="ort")
    parser.add_argument("--score", action="store_true")
    parser.add_argument("--context")
    parser.add_argument("--continuation")
    parser.add_argument("--self-test", action="store_true")
    parser.add_argument("--bench", action="store_true")
    parser.add_argument("--bench-threads", default="1,2")
    parser.add_argument("--bench-repeats", type=int, default=3)
    parser.add_argument("--prompt-tokens", type=int, default=300)
    parser.add_argument("--teacher-forced", metavar="WINDOWS_JSON")
    parser.add_argument("--decode-steps", action="store_true")   # --teacher-forced one token a step
    parser.add_argument("--bandwidth", action="store_true")
    parser.add_argument("--bandwidth-mb", type=int, default=256)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--temperature", type=float, default=0.0, help="0: greedy (the default)")
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--repetition-penalty", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-repeat-ngram", type=int, default=0)
    parser.add_argument("--stats", action="store_true", help="with --chat: each answer's token count and speed on stderr")
    args = parser.parse_args(argv)
    folder = Path(args.model)
    try:
        try:
            threads = [int(x) for x in args.bench_threads.split(",") if x.strip()]
        except ValueError:
            raise InputError(f"--bench-threads takes comma-separated integers, got {args.bench_threads!r}") from None
        if not threads or min(threads + [args.threads, args.max_new_tokens, args.bench_repeats, args.prompt_tokens,
                                         args.bandwidth_mb]) < 1:
            raise InputError("--threads, --bench-threads, --max-new-tokens, --bench-repeats, --prompt-tokens and "
                             "--bandwidth-mb must be at least 1")
        records.check_threads([args.threads] + threads)
        if args.bandwidth_mb > MAX_BANDWIDTH_MB:
            raise InputError(f"--bandwidth-mb {args.bandwidth_mb} is over {MAX_BANDWIDTH_MB} (the array it reads is "
                             f"that big)")
        if args.decode_steps and not args.teacher_forced:
            raise InputError("--decode-steps goes with --teacher-forced WINDOWS_JSON")
        if args.system is not None and not args.chat:
            raise InputError("--system goes with --chat")
        if args.system is not None:
            causal_lm.check_text(args.system, "--system")
            if not args.system.strip():
                raise InputError("--system is blank: give a system message, or leave the flag out for the template's")
        modes = [flag for flag, on in (("--bandwidth", args.bandwidth), ("--self-test", args.self_test), ("--bench", args.bench),
                                       ("--teacher-forced", args.teacher_forced), ("--score", args.score)) if on]
        if len(modes) > 1 or (modes and (args.prompt is not None or args.chat)):
            raise InputError(f"{', '.join(modes + ['--prompt'] * (args.prompt is not None) + ['--chat'] * args.chat)}: "
                             f"give one of them")
        if args.backend == "genai" and (modes or args.chat):
            raise InputError("--backend genai goes with --prompt alone (chat, scoring and the measurements run on ort)")
        if args.stats and not args.chat:
            raise InputError("--stats goes with --chat")
        pick = Sampler(args.temperature, args.top_k, args.top_p, args.repetition_penalty, args.seed,
                       args.no_repeat_ngram)
        if not pick.greedy and (args.bandwidth or args.self_test or args.bench or args.teacher_forced or args.score
                                or args.backend == "genai"):
            raise InputError("--temperature, --repetition-penalty and --no-repeat-ngram go with --prompt or --chat "
                             "(and --backend ort)")
        pick = None if pick.greedy else pick
        if args.bandwidth:
            result = {"read_gb_s": {n: lm_measure.read_bandwidth_gb_s(n, args.bandwidth_mb) for n in threads},
                      "machine": platform.machine()}
        elif args.self_test:
            result = self_test(folder)
        elif args.bench:
            if args.max_new_tokens < 2:
                raise InputError("--bench times the decode after the first new token: give --max-new-tokens 2 or more")
            result = {"rows": lm_measure.bench(lambda n: CausalLM(folder, threads=n), threads, args.bench_repeats,
                                               args.prompt_tokens, args.max_new_tokens)}
            if emulated():
                result["note"] = EMULATED_NOTE
        elif args.teacher_forced:
            lm = CausalLM(folder, args.threads)
            nll, argmax = causal_lm.teacher_forced_stats(lm, read_windows(Path(args.teacher_forced)), steps=args.decode_steps)
            result = {"nll": [round(float(x), 6) for x in nll], "argmax": argmax.tolist(),
                      "machine": platform.machine()}
        elif args.history and (not args.chat or args.prompt is not None):
            raise InputError("--history goes with --chat and questions on stdin (no --prompt)")
        elif args.chat and args.prompt is None:
            if sys.stdin is None:      # started with stdin closed (<&-)
                raise InputError("stdin is closed: give questions one a line on stdin, or --prompt TEXT")
            lm = CausalLM(folder, args.threads)
            if args.stats and emulated():
                print(f"[{EMULATED_NOTE}]", file=sys.stderr)
            _, refused = lm_chat.chat_lines(lm, sys.stdin, sys.stdout, args.max_new_tokens, args.json,
                                            ask=sys.stderr if sys.stdin.isatty() else None, history=args.history,
                                            system=args.system, pick=spare_eos(pick, lm),
                                            stats=sys.stderr if args.stats else None)
            return 2 if refused else 0     # each refused line said why above
        elif args.score:
            if args.context is None or args.continuation is None:
                raise InputError("--score needs --context and --continuation")
            total, per_token = CausalLM(folder, args.threads).score(args.context, args.continuation)
            result = {"logprob": total, "per_token": per_token}
        else:
            if not (args.prompt or "").strip():
                raise InputError("give --prompt TEXT (or --score, --self-test, --bench)" if not args.prompt
                                 else "--prompt is blank: give some text")
            causal_lm.check_text(args.prompt, "--prompt")
            lm = CausalLM(folder, args.threads)
            ids = lm.chat_ids(args.prompt, system=args.system) if args.chat else lm.encode(args.prompt)
            timings = {"prefill_tokens": len(ids)}
            stream = None if args.json or args.backend == "genai" else lm_chat.TextStream(lm, sys.stdout)
            tokens = (genai_tokens(folder, lm, ids, args.max_new_tokens, args.threads)
                      if args.backend == "genai"
                      else lm.generate_ids(ids, args.max_new_tokens, pick=spare_eos(pick, lm), timings=timings,
                                           on_token=stream))
            result = {"prompt": args.prompt, "tokens": tokens, "text": lm.decode(tokens)}
            if stream is not None:          # the answer as it came, then the rest (a held-back character)
                print(result["text"][stream.shown:], flush=True)
            if args.stats and "decode_s" in timings:
                note = f" [{EMULATED_NOTE}]" if emulated() else ""
                print(lm_chat.stats_line(tokens, timings) + note, file=sys.stderr)
    except BrokenPipeError:     # the reader stopped early (`| head`): run_main ends quietly
        raise
    except causal_lm.DamagedModel as exc:   # which file, where a bundle's manifest can say
        problem = records.manifest_problem(folder)
        said = f"{folder} holds a damaged model file: {problem}: {causal_lm.REBUILD}" if problem else exc
        print(f"error: {said}", file=sys.stderr)
        return 2
    except (InputError, records.InputError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:   # Ctrl-C mid-answer or at the prompt: end the line, one message
        print(flush=True)
        print("error: interrupted", file=sys.stderr)
        return 130
    if args.json or args.self_test or args.bench or args.score or args.teacher_forced or args.bandwidth:
        print(json.dumps(result))
    elif args.backend == "genai":
        print(result["text"])
    return 0 if result.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(records.run_main(main))
