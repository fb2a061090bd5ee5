"""`kllm bench quant`: flags and the choice of held-out and calibration texts (the study itself is
exercised on the tiny Llama in tests/edge/generator/)."""
import pytest

from bench.quant import calibration_texts, held_out_texts, main
from common.errors import UserError


@pytest.mark.parametrize("args, fragment", [
    (["--bogus"], "kllm bench quant: unrecognized arguments: --bogus"),
    (["--variants", "int4"], "--variants must include fp32"),
    (["--variants", "fp32,int3"], "--variants must include fp32 and name only"),
    (["--derived", "int8-smooth,int4-mixed9"], "--derived takes all, none or names from"),
    (["--held-out", "tweets"], "argument --held-out: invalid choice"),
    (["--rounds", "0"], "--rounds, --prune-blocks and each --mixed-layers count at least 1"),
    (["--eval-tokens", "-5"], "--eval-tokens and --calibration-tokens must be at least 64"),
    (["--mixed-layers", "0,2"], "each --mixed-layers count at least 1"),
    (["--prune-blocks", "0"], "--prune-blocks"),
    (["--fast", "--rounds", "5", "--variants", "fp32,int8"], "--fast sets its own variants, rounds and token counts: "
                                                             "drop --rounds, --variants"),
])
def test_bad_flags_are_user_errors(args, fragment):
    with pytest.raises(UserError, match=fragment):
        main(args)


def test_the_essays_are_another_held_out_text_disjoint_from_calibration():
    from bench.quant import essay_texts

    essays, calibration = essay_texts(), calibration_texts(held_out_texts(), limit=50)
    assert len(essays) >= 100 and all(e.strip() for e in essays)
    assert not set(essays) & set(held_out_texts())
    assert not any(c[:60] in e for c in calibration for e in essays)


def test_held_out_and_calibration_texts_are_disjoint():
    held_out = held_out_texts()
    calibration = calibration_texts(held_out, limit=50)
    assert len(held_out) >= 200 and len(calibration) == 50
    assert not set(held_out) & set(calibration)
    assert not any(c[:60] in h for c in calibration for h in held_out)


def test_a_fast_run_writes_beside_the_full_study_and_skips_the_task(monkeypatch, tmp_path):
    from edge.generator import study

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    seen = {}

    def fake_study(held_out, calibration, config, out_dir=None, task=None, **kwargs):
        seen.update(out_dir=out_dir, task=task, variants=config.variants)
        raise SystemExit(0)

    monkeypatch.setattr(study, "run_study", fake_study)
    with pytest.raises(SystemExit):
        main(["--fast"])
    assert seen == {"out_dir": tmp_path / "generator" / "study-fast", "task": None,
                    "variants": ("fp32", "int8", "int4")}


def test_a_run_on_chosen_variants_writes_beside_the_full_study_with_only_those_derived(monkeypatch, tmp_path):
    from edge.generator import study

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    seen = {}

    def fake_study(held_out, calibration, config, out_dir=None, task=None, **kwargs):
        seen.update(out_dir=out_dir, variants=config.variants, derived=config.derived, only=config.derived_only)
        raise SystemExit(0)

    monkeypatch.setattr(study, "run_study", fake_study)
    with pytest.raises(SystemExit):
        main(["--variants", "fp32,int8", "--derived", "int8-smooth", "--no-task"])
    assert seen == {"out_dir": tmp_path / "generator" / "study-subset", "variants": ("fp32", "int8"),
                    "derived": True, "only": ("int8-smooth",)}
    with pytest.raises(SystemExit):
        main(["--derived", "none", "--no-task"])
    assert seen["out_dir"] == tmp_path / "generator" / "study-subset" and seen["derived"] is False


def test_the_qat_variants_alone_get_every_calibration_passage_as_training_text(monkeypatch, tmp_path):
    from edge.generator import study

    monkeypatch.setenv("KLLM_CACHE", str(tmp_path))
    seen = {}

    def fake_study(held_out, calibration, config, out_dir=None, task=None, training_texts=None):
        seen.update(held_out=held_out, calibration=calibration, training=training_texts)
        raise SystemExit(0)

    monkeypatch.setattr(study, "run_study", fake_study)
    with pytest.raises(SystemExit):
        main(["--variants", "fp32,int4", "--derived", "int8-smooth", "--no-task"])
    assert seen["training"] is None
    with pytest.raises(SystemExit):
        main(["--variants", "fp32,int4", "--derived", "int4-qat", "--no-task"])
    training = seen["training"]
    assert len(training) > 10 * len(seen["calibration"]) and training[:len(seen["calibration"])] == seen["calibration"]
    assert not any(t[:60] in h for t in training for h in seen["held_out"])
    with pytest.raises(SystemExit):
        main(["--variants", "fp32,int4-b128", "--derived", "int4-b128-qat", "--no-task"])
    assert seen["training"] == training


@pytest.mark.parametrize("field, value", [("rounds", 0), ("eval_tokens", 10), ("threads", ()), ("threads", (0,)),
                                          ("new_tokens", 1), ("wanda", 1.0), ("smooth", 1.5)])
def test_a_study_config_that_could_not_measure_is_refused(field, value):
    from edge.generator.study import StudyConfig

    with pytest.raises(UserError, match="study: "):
        StudyConfig(**{field: value})
    assert StudyConfig().rounds == 3   # the defaults pass
