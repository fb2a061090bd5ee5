"""capped_vocabulary: scikit-learn's max_features where counts differ, a fixed hash order where
they tie at the cap, whatever order numpy's sort would give."""
import zlib

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from common.vocabulary import capped_vocabulary, tie_order

TEXTS = ["the cat sat", "the dog sat", "the bird flew", "a zebra ran", "the cat ran"]


def test_same_as_max_features_without_ties_at_the_cap():
    # counts: the 4, cat/ran/sat 2, the rest 1: a cap of 4 falls between 2 and 1
    ours = capped_vocabulary(TEXTS, 4)
    theirs = TfidfVectorizer(max_features=4).fit(TEXTS).vocabulary_
    assert ours == theirs == {"cat": 0, "ran": 1, "sat": 2, "the": 3}


def test_a_tie_at_the_cap_goes_by_the_terms_crc32():
    # after the top four, bird, dog, flew and zebra all count 1: a cap of 6 keeps the two of
    # them with the lowest CRC-32
    tied = sorted(["bird", "dog", "flew", "zebra"], key=lambda t: zlib.crc32(t.encode()))
    kept = sorted(["cat", "ran", "sat", "the", *tied[:2]])
    assert capped_vocabulary(TEXTS, 6) == {t: i for i, t in enumerate(kept)}
    assert list(tie_order(["bird"])) == [zlib.crc32(b"bird")]


def test_the_kept_terms_do_not_depend_on_the_texts_order():
    # the counts, and so the ties, are the same; a sort that followed first appearance would not be
    assert capped_vocabulary(TEXTS[::-1], 6) == capped_vocabulary(TEXTS, 6)


@pytest.mark.parametrize("limit", [None, 100])
def test_no_cap_or_an_unreached_one_keeps_every_term(limit):
    assert capped_vocabulary(TEXTS, limit, min_df=2) == {"cat": 0, "ran": 1, "sat": 2, "the": 3}


def test_options_reach_the_counter():
    vocab = capped_vocabulary(["abc abd"], 3, analyzer="char_wb", ngram_range=(3, 3))
    assert list(vocab) == sorted(vocab) and len(vocab) == 3
