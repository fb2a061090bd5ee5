"""edge/compare.py compare_variants: the runners timed in interleaved rounds, each latency the
median of the rounds' p50 (p95), and every runner scored once on the score inputs."""
import numpy as np
import pytest

import edge.compare as compare


class FakeRunner:
    """Records the thread counts it was set to; outputs a fixed probability per input."""

    def __init__(self, name: str, calls: list, p_ai: float):
        self.name, self.calls, self.p_ai, self.size_bytes = name, calls, p_ai, 2 * compare.MB

    def set_threads(self, n: int) -> None:
        self.calls.append((self.name, n))

    def proba(self, inputs) -> np.ndarray:
        return np.tile([1 - self.p_ai, self.p_ai], (len(inputs), 1))


def test_runners_are_timed_in_interleaved_rounds_and_the_median_round_counts(monkeypatch):
    calls = []
    runners = {"fp32": FakeRunner("fp32", calls, 0.9), "int8": FakeRunner("int8", calls, 0.8)}
    # each timing call returns the next pass: fp32 at 1t gets 10, 40, 12 ms per input over the rounds
    passes = iter([[0.010], [0.020], [0.004], [0.008],      # round 1: fp32 1t, fp32 4t, int8 1t, int8 4t
                   [0.040], [0.020], [0.030], [0.008],      # round 2: a slow moment for fp32 1t and int8 1t
                   [0.012], [0.020], [0.005], [0.008]])
    monkeypatch.setattr(compare, "time_per_text", lambda fn, inputs: next(passes))
    rows = compare.compare_variants(runners, ["a"], ["a", "b", "c"], score_fn=lambda p: float(p[:, 1].mean()),
                                    rounds=3)
    timed = [c for c in calls if c[1] != 2]                  # 2 threads: the scoring pass
    assert timed == [("fp32", 1), ("fp32", 4), ("int8", 1), ("int8", 4)] * 3
    assert [r.p50_1t_ms for r in rows] == [12.0, 5.0] and [r.p50_4t_ms for r in rows] == [20.0, 8.0]
    assert rows[1].speedup_1t == 12.0 / 5.0                  # one pass of round 2 would have said 1.33x
    assert [round(r.score, 6) for r in rows] == [0.9, 0.8] and rows[0].size_mb == 2.0
    assert calls.count(("int8", 2)) == 1                     # scored once, after the rounds


def test_full_length_texts_fill_the_max_length(tmp_path):
    from edge.compare import fill_to_length
    from common.training.text_classifier import TextClassifierConfig, load_classifier

    _, tokenizer = load_classifier(TextClassifierConfig(num_layers=1, num_labels=2))
    tokenizer.save_pretrained(tmp_path)
    essays = ["A short essay.", "Another one.", "A third essay, a little longer than the others."]
    texts = fill_to_length(essays, tmp_path / "tokenizer.json", 16, 4)
    assert len(texts) == 4
    assert texts[0].startswith("A short essay. Another one.")
    lengths = [len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in texts]
    assert min(lengths) >= 16
    with pytest.raises(ValueError, match="at least one text"):
        fill_to_length([], tmp_path / "tokenizer.json", 16, 1)
