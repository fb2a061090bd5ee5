"""`kllm bench q41_leftover`: its flags and its table (the quantizer is tested in
tests/edge/generator/test_leftover.py)."""
import pytest

from bench.q41_leftover import format_table, main
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--groups", "o,mlp"], "--groups names only"),
    (["--groups", ","], "--groups names only"),
    (["--eval-tokens", "10"], "at least 64"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_table_has_a_row_per_group_and_a_column_per_side():
    rows = [{"group": "o", "side": "nearest", "linears": 30, "perplexity": 43.16, "perplexity_delta": 0.003,
             "agreement": 0.9236},
            {"group": "o", "side": "calibrated", "linears": 30, "perplexity": 43.14, "perplexity_delta": 0.0027,
             "agreement": 0.9369},
            {"group": "all", "side": "nearest", "linears": 210, "perplexity": 52.68, "perplexity_delta": 0.224,
             "agreement": 0.6525}]
    table = format_table(rows).splitlines()
    assert table[0] == ("| MatMuls without the leftover | Linears | nearest: ppl / agreement | calibrated: ppl / agreement "
                        "| mean: ppl / agreement |")
    assert table[2] == "| o | 30 | 43.16 (+0.3%) / 0.924 | 43.14 (+0.3%) / 0.937 | - |"
    assert table[3] == "| all | 210 | 52.68 (+22.4%) / 0.652 | - | - |"
