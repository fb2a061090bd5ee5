"""The llama.cpp peer is opt-in: without llama-cpp-python it says how to get it in one line."""
import builtins

import pytest

from common.errors import UserError
from edge.generator import llama_peer


def test_without_the_package_it_names_the_extra(monkeypatch, tmp_path):
    real_import = builtins.__import__

    def no_llama(name, *args, **kwargs):
        if name == "llama_cpp":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_llama)
    with pytest.raises(UserError, match=r"llama-cpp-python.*pip install -e \.\[llama\]"):
        llama_peer.gguf_variants(tmp_path / "model.gguf", tmp_path)


def test_bad_flags_are_user_errors():
    from bench.llama_peer import main

    with pytest.raises(UserError, match="--onnx must start with fp32"):
        main(["--onnx", "int4,fp32"])
