"""`kllm bench int4_blocks`: its flags and its table (the quantizers are tested in
tests/edge/generator/test_gptq.py)."""
import pytest

from bench.int4_blocks import DEFAULT_SPECS, format_table, main
from common.errors import UserError
from edge.generator.gptq import QuantSpec


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--specs", "rtn-b100-sym"], "--specs takes"),
    (["--specs", "awq-b128-sym"], "--specs takes"),
    (["--threads", "a"], "--specs takes"),
    (["--rounds", "0"], "at least one"),
    (["--eval-tokens", "10"], "at least 64"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_default_specs_parse_and_skip_gptq_at_the_grids_own_block():
    specs = [QuantSpec.parse(s) for s in DEFAULT_SPECS.split(",")]
    assert {s.block for s in specs} == {32, 64, 128}
    assert not [s for s in specs if s.method == "gptq" and s.block == 32]


def test_table_has_a_row_per_block_and_a_column_per_quantizer():
    rows = [{"method": "rtn", "block": 128, "symmetric": True, "perplexity": 53.25, "perplexity_delta": 0.218,
             "agreement": 0.594},
            {"method": "gptq", "block": 64, "symmetric": False, "perplexity": 50.0, "perplexity_delta": 0.15,
             "agreement": 0.7}]
    speed = {128: {1: (4.38, 4.1, 4.5)}, 64: {1: (3.7, 3.6, 3.8)}}
    table = format_table(rows, speed, (1,)).splitlines()
    assert table[0] == "| block | decode vs fp32, 1t | RTN sym: ppl / agreement | GPTQ asym: ppl / agreement |"
    assert table[2] == "| 64 | 3.70x (3.60-3.80) | - | 50.00 (+15.0%) / 0.700 |"
    assert table[3] == "| 128 | 4.38x (4.10-4.50) | 53.25 (+21.8%) / 0.594 | - |"


def test_chart_is_a_png(tmp_path):
    from bench.int4_blocks import save_chart

    rows = [{"method": "rtn", "block": b, "symmetric": True, "agreement": a} for b, a in ((32, 0.58), (128, 0.59))]
    path = save_chart(rows, {32: {1: (3.3, 3.2, 3.4)}, 128: {1: (4.4, 4.3, 4.5)}}, 1, tmp_path / "c.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_run_that_times_no_block_removes_an_earlier_chart(tmp_path, monkeypatch, capsys):
    import bench.int4_blocks as int4_blocks
    import bench.quant as quant

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    chart = tmp_path / "generator" / "study" / "int4_blocks.png"
    chart.parent.mkdir(parents=True)
    chart.write_bytes(b"an earlier run's chart")
    monkeypatch.setattr(quant, "fake_quant_windows", lambda *a: ([[1, 2]], [[1, 2]]))
    base = {"tokens": 2, "perplexity": 40.0}
    monkeypatch.setattr(int4_blocks, "quality_rows", lambda *a: (base, []))
    monkeypatch.setattr(int4_blocks, "format_table", lambda *a: "| table |")
    assert int4_blocks.main(["--specs", "rtn-b4096-sym"]) == 0              # block 4096: no speed row
    out = capsys.readouterr().out
    assert not chart.exists() and "an earlier run's int4_blocks.png removed" in out
    assert "GPTQ" not in out and "no speed (no block of 32, 64 or 128 asked for)" in out   # the header names only what ran
