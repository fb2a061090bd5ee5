"""lm_fewshot's worked examples never share a fold with the row in any split; its completions
are cleaned to one non-empty line. (The LM itself runs in the slow end-to-end test.)"""
import numpy as np

from common.cv import FoldPlan
from competitions.prompt_recovery.fewshot import FALLBACK, clean, nearest_examples, page


def test_examples_come_from_other_folds_of_every_split():
    rng = np.random.default_rng(0)
    n_train, n_test = 40, 5
    vectors = rng.normal(size=(n_train + n_test, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    prompts = [f"p{i % 9}" for i in range(n_train)]
    rows = FoldPlan(4, 0, "kfold").assign(n_train)
    groups = FoldPlan(4, 0, "group").assign(n_train, groups=prompts)
    ids = nearest_examples(vectors, n_train, 3, [rows, groups])
    assert ids.shape == (n_train + n_test, 3)
    for i in range(n_train):
        assert (rows[ids[i]] != rows[i]).all() and (groups[ids[i]] != groups[i]).all()
        assert all(prompts[j] != prompts[i] for j in ids[i])        # held-out instructions stay unseen
    sims = vectors[n_train:] @ vectors[:n_train].T
    assert (ids[n_train:, 0] == sims.argmax(1)).all()              # test rows: every train row allowed


def test_clean_and_page():
    assert clean(' "Rewrite this text as a poem."\nText: more') == "Rewrite this text as a poem."
    assert clean("Instruction: Make it short.") == "Make it short."
    assert clean("  \n") == FALLBACK
    assert page("one two three", "uno dos", None, 2) == "Text: one two ...\nRewrite: uno dos\nInstruction:"
