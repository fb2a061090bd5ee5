"""`kllm bench zero_points`: its flags, the three MatMulNBits forms' arithmetic, its table and chart."""
import numpy as np
import pytest

from bench.zero_points import FORMS, format_table, form_inputs, main, measure, q41_blocks, session
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--shapes", "100x64"], "K a multiple of 32"),
    (["--shapes", "64by64"], "--shapes takes"),
    (["--threads", "a"], "comma-separated integers"),
    (["--rounds", "0"], "at least 1"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_each_form_computes_its_own_weights_and_only_float_zero_points_keep_q41_exactly():
    codes, d, m = q41_blocks(8, 64)
    exact = codes * d[..., None] + m[..., None]
    assert np.all(-m / d >= 3) and np.all(-m / d <= 12)        # the offset is inside the 0..15 codes' span
    x = np.random.default_rng(2).standard_normal((1, 64)).astype(np.float32)
    for form in FORMS:
        packed, scales, zero, weights = form_inputs(form, codes, d, m)
        got = session(64, 8, packed, scales, zero, threads=1, nodes=2).run(None, {"X": x})
        assert np.allclose(got[0], got[1])
        expected = x @ weights.T
        assert np.abs(got[0] - expected).max() < 0.02 * np.abs(expected).max()   # int8 activations' rounding at most
        gap = np.abs(weights - exact.reshape(8, 64)).max() / np.abs(exact).max()
        assert (gap < 1e-6) == (form == "float")


def test_measure_gives_every_form_a_row_against_uint8_and_a_table_line():
    rows = measure([(64, 16)], [1], rounds=2, budget_s=0.001)
    assert [r["form"] for r in rows] == list(FORMS)
    by_form = {r["form"]: r for r in rows}
    assert by_form["uint8"]["ratio"] == (1.0, 1.0, 1.0)
    assert by_form["float"]["error"] < 1e-5 < by_form["uint8"]["error"]   # float zero points compute in fp32
    assert all(r["us"][1] <= r["us"][0] <= r["us"][2] for r in rows)
    table = format_table(rows).splitlines()
    assert table[0].startswith("| K x N | threads | zero points |") and len(table) == 2 + len(FORMS)
    assert table[2].startswith("| 64x16 | 1 | uint8 |") and "| 1.00x (1.00-1.00) |" in table[2]


def test_chart_is_a_png(tmp_path):
    from bench.zero_points import save_chart

    rows = [{"shape": "64x16", "threads": 1, "form": f, "ratio": (r, r, r)} for f, r in zip(FORMS, (1.0, 60.0, 0.9))]
    assert save_chart(rows, tmp_path / "z.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
