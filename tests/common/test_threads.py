"""common.threads: KLLM_THREADS read as every KLLM_ variable is (blank: the default), and refused
in one line when no run could use it."""
from __future__ import annotations

import os

import pytest

from common.errors import UserError
from common.threads import default_threads, max_threads


@pytest.mark.parametrize("value, threads", [("", os.cpu_count()), ("   ", os.cpu_count()), (" 2 ", 2), ("1", 1)])
def test_a_thread_count_is_read_with_its_blanks_ignored(value, threads, monkeypatch):
    monkeypatch.setenv("KLLM_THREADS", value)
    assert default_threads() == threads


@pytest.mark.parametrize("value, said", [
    ("0", "must be a positive integer, got '0'"), ("-1", "got '-1'"), ("1.5", "got '1.5'"), ("²", "got '²'"),
    ("99999999999999999999999", "is more than this machine's"),     # torch.set_num_threads overflowed on it
])
def test_a_count_no_run_could_use_is_one_user_error(value, said, monkeypatch):
    monkeypatch.setenv("KLLM_THREADS", value)
    with pytest.raises(UserError, match=said):
        default_threads()
    monkeypatch.setenv("KLLM_THREADS", str(max_threads()))
    assert default_threads() == max_threads() >= 64
