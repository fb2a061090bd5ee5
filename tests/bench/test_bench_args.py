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
])
def test_a_benchmark_reports_a_bad_flag_as_a_user_error(args, fragment):
    from bench.retrieval import main as retrieval

    with pytest.raises(UserError, match=fragment):
        retrieval(args)
