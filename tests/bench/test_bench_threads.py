"""Thread counts past what oversubscription can mean are one line, in every bench that takes them."""
import re

import pytest

from bench._args import MAX_THREADS
from common.errors import UserError


@pytest.mark.parametrize("bench, argv", [
    ("kv_cache", ["--threads", "1,{n}"]),
    ("logits_from", ["--threads", "{n}"]),
    ("runtime_ab", ["--against", "HEAD", "--threads", "{n}"]),
    ("decode_path", ["--threads", "{n}"]),
    ("int4_blocks", ["--threads", "{n}"]),
    ("zero_points", ["--threads", "{n}"]),
    ("chat", ["--threads", "{n}"]),
    ("chat_history", ["--threads", "{n}"]),
    ("edge_device", ["--threads", "1,{n}"]),
    ("quant_device", ["--threads", "{n}"]),
])
def test_too_many_threads_are_refused(bench, argv):
    import importlib

    main = importlib.import_module(f"bench.{bench}").main
    with pytest.raises(UserError, match=f"--threads at most {MAX_THREADS}"):
        main([a.format(n=MAX_THREADS + 1) for a in argv])


def test_a_matrix_too_large_to_time_is_refused():
    from bench.zero_points import main

    with pytest.raises(UserError, match="--shapes: at most"):
        main(["--shapes", "100000x100000"])


@pytest.mark.parametrize("bench, argv, said", [
    ("logits_from", ["--prompts", "16,99999"], "--prompts 99999 passes smollm2's 8192-token context"),
    ("kv_cache", ["--contexts", "8161"], "--contexts 8161 (and 32 new tokens) passes smollm2's 8192-token context"),
    ("chat", ["--max-new-tokens", "8193"], "--max-new-tokens 8193 passes smollm2's 8192-token context"),
    ("chat_history", ["--max-new-tokens", "8193"], "--max-new-tokens 8193 passes"),
    ("chat", ["--model", "nope"], "unknown model 'nope'"),
    ("edge_device", ["--device", ""], "argument --device: empty value"),
    ("quant_device", ["--root", " "], "argument --root: empty value"),
    ("shape_speed", ["--report", ""], "argument --report: empty path"),
    ("encoder_fusions", ["--student", ""], "argument --student: empty path"),
])
def test_a_value_no_run_could_use_is_refused_before_any_work(bench, argv, said, capsys):
    import importlib

    from common.models import causal_lm_path

    causal_lm_path("smollm2")                      # an empty cache's one-time conversion shows its own bars
    capsys.readouterr()
    with pytest.raises(UserError, match=re.escape(said)):
        importlib.import_module(f"bench.{bench}").main(argv)
    assert capsys.readouterr().err == ""          # no progress bar was started


@pytest.mark.parametrize("bench, argv", [("edge_device", ["--threads", "1,{n}"]), ("quant_device", ["--threads", "{n}"])])
def test_the_device_benches_ask_the_devices_cores_before_any_work(bench, argv, capsys):
    import importlib
    import os

    n = 4 * (os.cpu_count() or 1) + 1           # the emulated Pi runs on this machine's cores
    if n > MAX_THREADS:
        pytest.skip(f"{os.cpu_count()} cores: the bench's own limit ({MAX_THREADS}) comes first")
    with pytest.raises(UserError, match=f"--threads {n} is more than emulated-pi .*'s {os.cpu_count()} cores"):
        importlib.import_module(f"bench.{bench}").main([a.format(n=n) for a in argv])
    assert capsys.readouterr().err == ""       # nothing trained, exported or staged
