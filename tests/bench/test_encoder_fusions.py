"""`kllm bench encoder_fusions`: its flags, table and chart (the fusion contract itself is tested in
tests/edge/classifier/test_export.py; the timing needs the real student and runs as a benchmark)."""
import pytest

from bench.encoder_fusions import ARRANGEMENTS, format_table, main, save_chart
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--rounds", "0"], "must be at least 1"),
    (["--max-length", "1000", "--full-length"], "--max-length: the MiniLM students read at most 512 tokens"),
    (["--texts", "x"], "invalid int value"),
    (["--student", "/nonexistent/student"], "no model folder"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def rows():
    return [{"arrangement": a, "precision": p, "p50_ms": ms, "p50_min": ms - 0.1, "p50_max": ms + 0.2,
             "vs_own_fp32": r, "own_min": r - 0.1, "own_max": r + 0.1, "vs_shipped_fp32": r,
             "shipped_min": r - 0.2, "shipped_max": r + 0.3, "max_logit_diff": d,
             "mean_logit_diff": d / 10}
            for a in ARRANGEMENTS for p, ms, r, d in (("fp32", 10.0, 1.0, 0.0), ("int8", 4.0, 2.5, 2.5e-3))]


def test_table_has_a_row_per_model_and_the_ratios():
    table = format_table(rows()).splitlines()
    assert len(table) == 2 + 2 * len(ARRANGEMENTS)
    assert "| shipped | int8 | 4.00 (3.90-4.20) | 2.50x (2.40-2.60) | 2.50x (2.30-2.80) | 2.5e-03 | 2.5e-04 |" in table


def test_chart_is_a_png(tmp_path):
    path = save_chart(rows(), tmp_path / "fusions.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_tiny_student_through_every_arrangement(tmp_path):
    from bench.encoder_fusions import build_models, measure, profile_ops
    from common.training.text_classifier import TextClassifierConfig, load_classifier
    from edge.classifier.distill import save_student

    model, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, num_labels=2, seed=3))
    student = save_student(model, tokenizer, tmp_path / "student")
    models, tokenizer_file = build_models(str(student), tmp_path / "work")
    assert sorted(models) == sorted([f"{a} {p}" for a in ARRANGEMENTS for p in ("fp32", "int8")]
                                    + ["shipped int8-per-tensor"])
    texts = ["A short essay.", "Another one, somewhat longer than the first essay here."]
    rows = measure(models, tokenizer_file, texts, rounds=1, max_length=32)
    by_name = {f"{r['arrangement']} {r['precision']}": r for r in rows}
    assert by_name["shipped fp32"]["max_logit_diff"] < 1e-4        # unfusing changes no output
    assert by_name["shipped int8"]["max_logit_diff"] < 0.5         # int8 rounding only
    per_tensor = by_name["shipped int8-per-tensor"]
    assert per_tensor["vs_own_fp32"] > 0 and per_tensor["mean_logit_diff"] <= per_tensor["max_logit_diff"] < 0.5
    assert all(r["p50_ms"] > 0 for r in rows)
    fused_ops = profile_ops(models["skip-fused fp32"], tokenizer_file, texts, 32, top=20)
    shipped_ops = profile_ops(models["shipped fp32"], tokenizer_file, texts, 32, top=20)
    assert "SkipLayerNormalization" in fused_ops and "SkipLayerNormalization" not in shipped_ops
    assert "LayerNormalization" in shipped_ops
