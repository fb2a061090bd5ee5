"""Benchmarks parse their own flags (never with cli/'s parser): a bad one is a UserError, which
the CLI prints as one line with exit 2."""
import pytest

from bench._args import bench_parser
from common.errors import UserError


def test_a_bad_flag_is_a_user_error():
    parser = bench_parser("kllm bench x")
    parser.add_argument("--n", type=int, default=1)
    assert parser.parse_args(["--n", "3"]).n == 3
    with pytest.raises(UserError, match=r"kllm bench x: .*--bogus.*\(see --help\)"):
        parser.parse_args(["--bogus"])


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "kllm bench retrieval: unrecognized arguments: --bogus"),
    (["--sizes", "ten"], "--sizes expects integers"),
    (["--embed", "-1"], "--embed at least 0"),
])
def test_a_benchmark_reports_a_bad_flag_as_a_user_error(args, fragment):
    from bench.retrieval import main as retrieval

    with pytest.raises(UserError, match=fragment):
        retrieval(args)


@pytest.mark.parametrize("bench", ["quant_device", "edge_device"])
@pytest.mark.parametrize("args, fragment", [
    (["--threads", "x"], "comma-separated"), (["--rounds", "0"], "at least 1"),
    (["--no-speed", "--no-quality"], "nothing to measure"), (["--nope"], "unrecognized")])
def test_a_device_benchmark_reports_a_bad_flag_as_a_user_error(bench, args, fragment):
    import importlib

    with pytest.raises(UserError, match=fragment):
        importlib.import_module(f"bench.{bench}").parse(args)


@pytest.mark.parametrize("bench", ["quant_device", "edge_device"])
def test_a_device_benchmark_times_a_pi_and_not_the_emulated_one_unless_asked(bench):
    import importlib

    parse = importlib.import_module(f"bench.{bench}").parse
    assert parse([])[0].speed is False and parse(["--speed"])[0].speed is True
    assert parse(["--device", "pi@raspberrypi.local"])[0].speed is True


@pytest.mark.parametrize("args, fragment", [
    (["--variants", "fp32,nope"], "--variants names only"), (["--eval-tokens", "4"], "at least 16"),
    (["--eval-tokens", "0"], "at least 16")])
def test_the_device_study_refuses_unknown_variants_and_tiny_evaluations(args, fragment):
    from bench.quant_device import parse

    with pytest.raises(UserError, match=fragment):
        parse(args)
    assert parse(["--variants", "int4"])[1] == ["fp32", "int4"]
    with pytest.raises(UserError, match="cannot go with --no-quality"):
        parse(["--decode-steps", "--no-quality", "--speed"])
    assert parse(["--decode-steps"])[0].decode_steps is True


def test_the_device_comparison_refuses_no_timed_texts():
    from bench.edge_device import parse

    with pytest.raises(UserError, match="at least 1"):
        parse(["--texts", "0"])
    with pytest.raises(UserError, match="seed -1 is out of range"):
        parse(["--seed", "-1"])


def test_the_llm_benchmark_refuses_no_new_tokens():
    from bench.llm import main as llm

    with pytest.raises(UserError, match="--tokens must be at least 1"):
        llm(["--tokens", "0"])


def test_a_token_count_past_the_texts_is_said_not_silently_capped(capsys):
    from bench._args import note_short_text

    note_short_text([[1] * 200, [2] * 56], 256, "--eval-tokens")
    assert capsys.readouterr().out == ""
    note_short_text([[1] * 200, [2] * 56], 100000, "--eval-tokens")
    assert capsys.readouterr().out.strip() == "note: --eval-tokens 100000: the texts hold 256 tokens in windows, so 256 are used"
