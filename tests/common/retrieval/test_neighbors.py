import numpy as np
import pytest

from common.retrieval import nearest_allowed


def _unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


MEMORY = _unit([[1, 0], [0.9, 0.1], [0, 1], [0.5, 0.5]])


def test_most_similar_first_without_groups():
    ids = nearest_allowed(_unit([[1, 0.05], [0, 1]]), MEMORY, k=2)
    assert ids.tolist() == [[0, 1], [2, 3]]


def test_rows_of_the_query_group_are_never_returned_but_group_minus_one_always_is():
    memory_groups = np.array([0, 1, 0, -1])
    ids = nearest_allowed(_unit([[1, 0], [1, 0]]), MEMORY, k=3, query_groups=np.array([0, 1]),
                          memory_groups=memory_groups)
    assert ids.tolist() == [[1, 3, -1], [0, 3, 2]]    # fold 0 may only see rows 1 and 3


def test_k_above_the_memory_size_pads_with_minus_one_and_groups_come_in_pairs():
    assert nearest_allowed(_unit([[1, 0]]), MEMORY[:1], k=3).tolist() == [[0, -1, -1]]
    with pytest.raises(ValueError, match="together"):
        nearest_allowed(MEMORY, MEMORY, k=1, query_groups=np.zeros(4))


def test_blocks_give_the_same_answer_as_one_pass():
    rng = np.random.default_rng(0)
    queries, memory = _unit(rng.normal(size=(50, 8))), _unit(rng.normal(size=(40, 8)))
    groups = rng.integers(0, 3, 50), rng.integers(-1, 3, 40)
    assert np.array_equal(nearest_allowed(queries, memory, 4, *groups, block=7),
                          nearest_allowed(queries, memory, 4, *groups))
