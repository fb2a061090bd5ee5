"""An essay plan whose mix deals written essays (SmolLM2's honest essay; here the tiny Llama):
the bundle carries the causal LM and its runtime, is refused only when a template essay differs,
the device writes the written essays with the host's decoding rule, and the smoke test checks
the model by an essay's mean log-probability, with a tolerance."""
from __future__ import annotations

import json
import re

import numpy as np

import pytest
from fake_specs import TOPICS
from test_writer_bundle import self_test

from common.errors import UserError
from competitions.adversarial_judge.attacks import ATTACKS, filler_vocabulary
from competitions.adversarial_judge.edge import port_set
from competitions.adversarial_judge.honest import PROMPT, SYSTEM, clip_words, writer_settings
from competitions.adversarial_judge.mixture import Mix
from competitions.adversarial_judge.search import assign
from edge.bundle import verify_bundle
from edge.runtime.causal_lm import CausalLM
from edge.runtime.detect import open_bundle
from edge.runtime.essays import LmWriter, clip_words as device_clip_words
from edge.runtime import lm_sampling
from edge.writer.steps import WriterSteps

HOST_ESSAY = "A host essay on {topic}, written by PyTorch."


def lm_plan(tiny_llm, variant: str = "int4", max_tokens: int = 12) -> tuple[dict, list[str]]:
    counts = {"critique_style_vivid": len(TOPICS) - 3, "inject_9": 1, "honest": 2}
    written = {"honest": lambda topics: [HOST_ESSAY.format(topic=t) for t in topics]}
    essays, names = assign(Mix(counts, 0.0, {}), list(ATTACKS.values()), list(TOPICS), 12, 7, written)
    settings = {**writer_settings(max_tokens, 150), "model": str(tiny_llm)}
    plan = {"seed": 7, "filler_words": 12, "attack_per_topic": names, "lm_variant": variant,
            "templates": {a: ATTACKS[a].body("{topic}") for a in sorted(set(names)) if a in ATTACKS},
            "writers": {"honest": settings}}
    return plan, essays


@pytest.fixture
def lm_cache(generator_cache, tiny_exports, monkeypatch):
    """The tiny Llama's exports (built once a session) where build_named finds them."""
    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))


@pytest.fixture
def lm_port(tiny_llm, lm_cache):
    plan, essays = lm_plan(tiny_llm)
    return port_set(list(TOPICS), essays, plan, filler_vocabulary(), "a toy mix with honest essays",
                    score=lambda written: len(set(written)) / len(TOPICS))


def test_the_bundle_carries_the_lm_and_its_smoke_test_checks_it(lm_port, tmp_path):
    steps = WriterSteps(lm_port)
    info = steps.bundle(tmp_path / "bundle", {"competition": "adversarial-judge"})
    files = verify_bundle(info.path).files
    assert {"model.onnx", "genai_config.json", "tokenizer.json", "chat.json", "causal_lm.py", "lm_sampling.py"} <= set(files)
    assert "template outputs byte for byte" in steps.bundle_check and steps.host_written == 2
    smoke = [json.loads(line) for line in (info.path / "smoke.jsonl").read_text().splitlines()]
    assert [r["attack"] for r in smoke if "logprob" in r] == ["honest"]      # SMOKE_WRITTEN rows
    assert len(smoke) == len(TOPICS) - 1                                       # every template row
    report = self_test(info.path)
    assert report["ok"] is True and report["mismatches"] == 0 and report["written"] == 1
    assert report["max_logprob_diff"] < 1e-6 and report["written_identical"] == 1    # the same x86 here
    outputs = steps.device_outputs(info.path)
    names = lm_port.plan["attack_per_topic"]
    assert [o for o, n in zip(outputs, names) if n != "honest"] == [e for e, n in zip(lm_port.outputs, names) if n != "honest"]
    written = [o for o, n in zip(outputs, names) if n == "honest"]
    assert all(w and "PyTorch" not in w for w in written)                    # the device's own essays
    timing = steps.bench(info.path, tmp_path, repeats=1)
    assert timing["written_p50_ms"] > 0 and timing["p50_ms"] > 0


def test_a_template_essay_that_differs_is_still_refused(lm_port, tmp_path):
    names = lm_port.plan["attack_per_topic"]
    i = next(k for k, n in enumerate(names) if n != "honest")
    lm_port.outputs[i] = "not what the template writes"
    with pytest.raises(UserError, match="does not reproduce the host: 1 of 6 outputs differ"):
        WriterSteps(lm_port).bundle(tmp_path / "bundle", {})
    assert not (tmp_path / "bundle").exists()


def test_the_smoke_check_fails_when_the_model_scores_the_essay_otherwise(lm_port, tmp_path):
    info = WriterSteps(lm_port).bundle(tmp_path / "bundle", {})
    rows = [json.loads(line) for line in (info.path / "smoke.jsonl").read_text().splitlines()]
    writer = open_bundle(info.path)
    assert writer.self_check(rows, 0.5)["ok"] is True
    moved = [dict(r, logprob=r["logprob"] - 0.6) if "logprob" in r else r for r in rows]
    report = writer.self_check(moved, 0.5)
    assert report["ok"] is False and report["max_logprob_diff"] == pytest.approx(0.6, abs=1e-6)
    wrong = [dict(r, output="changed") if "logprob" not in r else r for r in rows[:2]]
    assert writer.self_check(wrong, 0.5)["mismatches"] == 2


def test_a_writer_plan_names_a_shippable_variant_and_one_model(tiny_llm, lm_cache):
    plan, essays = lm_plan(tiny_llm, variant="int3")
    with pytest.raises(UserError, match="edge_lm must be one of"):
        WriterSteps(port_set(list(TOPICS), essays, plan, filler_vocabulary(), "t", score=len))
    plan, _ = lm_plan(tiny_llm)
    plan["writers"]["other"] = {**plan["writers"]["honest"], "model": "another"}
    with pytest.raises(UserError, match="one causal LM"):
        WriterSteps(port_set(list(TOPICS), essays, plan, filler_vocabulary(), "t", score=len))


@pytest.mark.parametrize("topic, penalty", [("Cats at night", None), ("Why rivers flood", None), ("Chess openings", 40.0)])
def test_the_device_writes_the_hosts_essay_where_the_numbers_agree(topic, penalty, tiny_llm, tiny_exports):
    """fp32 ONNX against PyTorch, one prompt a batch: the host's decoding (chat turn after the system
    message, repetition penalty over prompt and answer, min_new_tokens, whitespace, clip) is the device's.
    A penalty of 40 changes the tiny model's sharp picks, so a penalty left off the prompt shows."""
    from common.llm.generation import GenerationConfig, generate_batch
    from tiny_llm import load_fp32
    from transformers import AutoTokenizer

    settings = {**writer_settings(24, 10), "model": str(tiny_llm)}
    settings["repetition_penalty"] = penalty or settings["repetition_penalty"]
    config = GenerationConfig(max_new_tokens=24, min_new_tokens=settings["min_new_tokens"],
                              repetition_penalty=settings["repetition_penalty"], system_prompt=SYSTEM, batch_size=1)
    text = generate_batch(load_fp32(tiny_llm), AutoTokenizer.from_pretrained(tiny_llm), [PROMPT.format(topic=topic)], config)[0]
    host = clip_words(re.sub(r"\s+", " ", text), 10) or text
    device = LmWriter(CausalLM(tiny_exports["fp32"]), settings, lm_sampling).write(topic)
    assert device == host and len(host.split()) <= 10


@pytest.mark.parametrize("text", ["One. Two three four. Five six seven eight nine ten eleven.",
                                  "no sentence end at all in these many many words here ok", "Short one.",
                                  "A b c d e f g h. I j k l m n o p q r."])
def test_the_device_clips_words_as_the_host_does(text):
    for n in (3, 5, 8, 12):
        assert device_clip_words(text, n) == clip_words(text, n)


class FakeLM:
    eos_ids = {2}


@pytest.mark.parametrize("answered, picked", [(0, 1), (19, 1), (20, 2)])
def test_no_end_of_turn_before_min_new_tokens(answered, picked):
    writer = LmWriter(FakeLM(), {**writer_settings(64, 150), "repetition_penalty": 1.0}, lm_sampling)
    logits = np.array([0.0, 5.0, 9.0, 1.0])            # the end of turn (2) leads
    assert writer.pick(logits, [3], [3] * answered) == picked
    assert logits[2] == 9.0                              # the model's logits are left as they were


def test_the_penalty_reaches_the_prompts_tokens():
    writer = LmWriter(FakeLM(), {**writer_settings(64, 150), "repetition_penalty": 2.0, "min_new_tokens": 0}, lm_sampling)
    logits = np.array([0.0, 5.0, 1.0, 3.0])
    assert writer.pick(logits, [], []) == 1
    assert writer.pick(logits, [1], []) == 3                # 5 / 2 < 3: a token of the prompt is penalized


def test_a_capped_smoke_test_keeps_its_written_row(lm_port, tmp_path, monkeypatch):
    import edge.writer.steps as steps_module

    monkeypatch.setattr(steps_module, "SMOKE_MAX", 3)
    info = WriterSteps(lm_port).bundle(tmp_path / "bundle", {})
    smoke = [json.loads(line) for line in (info.path / "smoke.jsonl").read_text().splitlines()]
    assert len(smoke) == 3 and ["logprob" in r for r in smoke] == [False, False, True]
