"""Thread counts past what oversubscription can mean are one line, in every bench that takes them."""
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
