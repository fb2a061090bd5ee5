import numpy as np
import pytest

from common.errors import UserError
from common.training.multiple_choice import MultipleChoiceConfig, predict_multiple_choice, train_multiple_choice

# The right option always repeats the context word, so a few steps learn to prefer it.
WORDS = ["apple", "river", "stone", "cloud", "tiger", "piano", "candle", "forest"]


def _data(n, seed):
    rng = np.random.default_rng(seed)
    firsts, seconds, labels = [], [], []
    for _ in range(n):
        key, *others = rng.choice(WORDS, size=3, replace=False)
        label = int(rng.integers(0, 3))
        options = list(others)
        options.insert(label, key)
        firsts.append(f"the word is {key}")
        seconds.append(options)
        labels.append(label)
    return firsts, seconds, np.array(labels)


@pytest.mark.parametrize("lora", [False, True])
def test_fine_tuning_learns_a_simple_matching_rule(lora):
    cfg = MultipleChoiceConfig(max_length=16, epochs=3, batch_size=4, learning_rate=2e-3 if lora else 1e-4,
                               lora=lora, lora_r=8, seed=0, show_progress_bar=False)
    firsts, seconds, labels = _data(48, seed=0)
    model, tokenizer = train_multiple_choice(firsts, seconds, labels, cfg)
    test_f, test_s, test_y = _data(30, seed=1)
    logits = predict_multiple_choice(model, tokenizer, test_f, test_s, cfg)
    assert logits.shape == (30, 3)
    assert float(np.mean(np.argmax(logits, axis=1) == test_y)) >= 0.6     # chance is 1/3


@pytest.mark.parametrize("lora", [False, True])
def test_same_seed_gives_identical_logits(lora):
    cfg = MultipleChoiceConfig(max_length=16, epochs=1, batch_size=4, trainable_layers=None if lora else 1, lora=lora,
                               seed=3, threads=2, show_progress_bar=False)
    firsts, seconds, labels = _data(8, seed=0)
    runs = [predict_multiple_choice(*train_multiple_choice(firsts, seconds, labels, cfg), firsts, seconds, cfg)
            for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])


def test_ragged_options_are_a_user_error():
    with pytest.raises(UserError):
        train_multiple_choice(["a", "b"], [["x", "y"], ["x"]], [0, 0], MultipleChoiceConfig(show_progress_bar=False))
