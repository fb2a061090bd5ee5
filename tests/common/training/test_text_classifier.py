"""The shared sequence-classifier trainer: text pairs, bit-identical reruns of one seed, and LoRA
on a tiny causal LM (the path a SmolLM2 sequence classifier takes)."""
import numpy as np
import pytest

from common.errors import UserError
from common.training.inputs import check_inputs, tokenize
from common.training.text_classifier import TextClassifierConfig, predict_proba, train_text_classifier

WORDS = ["apple", "river", "stone", "cloud", "tiger", "piano"]


def pairs(n: int, seed: int):
    """(question, response) pairs; the label says whether the response repeats the question's word."""
    rng = np.random.default_rng(seed)
    inputs, labels = [], []
    for _ in range(n):
        word, other = rng.choice(WORDS, size=2, replace=False)
        label = int(rng.integers(0, 2))
        inputs.append((f"which word is {word}?", f"the word is {word if label else other}"))
        labels.append(label)
    return inputs, np.array(labels)


def test_check_inputs_takes_texts_or_pairs_never_a_mix():
    assert check_inputs(["a", "b"]) == ["a", "b"]
    assert check_inputs([["q", "r"], ("q2", "r2")]) == [("q", "r"), ("q2", "r2")]
    for bad in ([], ["a", ("q", "r")], [("q", "r", "s")], [("q", 3)]):
        with pytest.raises(UserError):
            check_inputs(bad)


def test_pairs_are_encoded_as_the_tokenizers_pair_template():
    from transformers import AutoTokenizer

    from common.models import encoder_path

    tokenizer = AutoTokenizer.from_pretrained(encoder_path("minilm"))
    enc = tokenize(tokenizer, [("a question", "an answer " * 50)], max_length=16)
    assert enc["input_ids"].shape == (1, 16)
    assert tokenizer.decode(enc["input_ids"][0][:4]) == "[CLS] a question [SEP]"  # longest side truncated
    assert enc["token_type_ids"][0].tolist() == [0] * 4 + [1] * 12


def test_same_seed_gives_identical_probabilities_on_text_pairs():
    inputs, y = pairs(24, seed=0)
    cfg = TextClassifierConfig(num_layers=1, max_length=24, epochs=1, batch_size=8, seed=3, threads=2,
                               show_progress_bar=False)
    runs = [predict_proba(*train_text_classifier(inputs, y, cfg), inputs, max_length=24, threads=2) for _ in range(2)]
    assert runs[0].shape == (24, 2)
    np.testing.assert_array_equal(runs[0], runs[1])


def test_lora_trains_only_adapters_and_head_and_returns_a_plain_model(tiny_llama):
    inputs, y = pairs(32, seed=1)
    cfg = TextClassifierConfig(model=str(tiny_llama), lora=True, lora_r=4, lora_alpha=8, epochs=2,
                               batch_size=8, learning_rate=5e-3, max_length=24, seed=0, show_progress_bar=False)
    model, tokenizer = train_text_classifier(inputs, y, cfg)
    assert type(model).__name__ == "LlamaForSequenceClassification"  # adapters merged: no peft wrapper
    assert not any("lora" in name for name, _ in model.named_parameters())
    probs = predict_proba(model, tokenizer, inputs, max_length=24)
    assert probs.shape == (32, 2) and np.allclose(probs.sum(1), 1, atol=1e-5)

    from common.training.lora import with_lora
    from common.training.text_classifier import load_classifier

    wrapped = with_lora(load_classifier(cfg)[0], cfg, task_type="SEQ_CLS")
    trainable = {name for name, p in wrapped.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or "score" in n for n in trainable)
    assert any("q_proj.lora_A" in n for n in trainable)  # peft's default targets for Llama


def test_lora_on_minilm_learns_which_responses_agree():
    good, bad = ["yes", "sure", "agreed", "certainly"], ["no", "never", "refused", "nope"]
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=64)
    inputs = [(f"question {i}: will you come?", f"{rng.choice(good if k else bad)}, i said") for i, k in enumerate(y)]
    cfg = TextClassifierConfig(lora=True, lora_r=8, epochs=4, batch_size=8, learning_rate=5e-3, max_length=24,
                               seed=0, show_progress_bar=False)  # all 6 layers: 1 layer learns nothing here
    model, tokenizer = train_text_classifier(inputs[:48], y[:48], cfg)
    accuracy = np.mean(predict_proba(model, tokenizer, inputs[48:], max_length=24).argmax(1) == y[48:])
    assert accuracy >= 0.8  # chance is 0.5
