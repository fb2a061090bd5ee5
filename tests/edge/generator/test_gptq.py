"""int4 fake quantization at any block: MatMulNBits' grid, round-to-nearest, GPTQ, a whole model."""
from __future__ import annotations

import pytest
import torch

from edge.generator.gptq import QuantSpec, block_grid, fake_quant, gptq, quantize_model, rtn
from tiny_llm import load_fp32


def test_spec_parse_round_trips_and_refuses_other_text():
    spec = QuantSpec.parse("gptq-b128-asym")
    assert (spec.method, spec.block, spec.symmetric, spec.name) == ("gptq", 128, False, "gptq-b128-asym")
    assert QuantSpec.parse("rtn-b32-sym").symmetric
    for bad in ("awq-b128-sym", "rtn-128-sym", "rtn-b100-sym", "rtn-b8-sym", "rtn-b64", "rtn-b64-half"):
        with pytest.raises(ValueError):
            QuantSpec.parse(bad)


def test_symmetric_grid_keeps_the_peak_and_uses_sixteen_codes():
    torch.manual_seed(0)
    w = torch.randn(6, 64)
    scale, zero = block_grid(w, symmetric=True)
    q = fake_quant(w, scale, zero)
    peak = w.abs().argmax(-1, keepdim=True)
    torch.testing.assert_close(torch.gather(q, -1, peak), torch.gather(w, -1, peak))
    assert (zero == 8).all()
    assert all(len(torch.unique(row)) <= 16 for row in q)


def test_asymmetric_grid_has_integer_zero_points_and_half_step_error():
    torch.manual_seed(1)
    w = torch.rand(5, 32) * 3 - 0.5
    scale, zero = block_grid(w, symmetric=False)
    assert torch.equal(zero, zero.round()) and zero.min() >= 0 and zero.max() <= 15
    q = fake_quant(w, scale, zero)
    assert ((q - w).abs() <= scale / 2 + 1e-6).all()


def test_rtn_quantizes_each_block_on_its_own_grid_including_a_short_last_one():
    torch.manual_seed(2)
    w = torch.randn(4, 96)
    q = rtn(w, block=64, symmetric=True)
    torch.testing.assert_close(q[:, 64:], fake_quant(w[:, 64:], *block_grid(w[:, 64:], True)))
    torch.testing.assert_close(q[:, :64], fake_quant(w[:, :64], *block_grid(w[:, :64], True)))


def test_gptq_with_uncorrelated_inputs_is_round_to_nearest():
    torch.manual_seed(3)
    w = torch.randn(8, 128)
    for sym in (True, False):
        torch.testing.assert_close(gptq(w, torch.eye(128) * 5, block=32, symmetric=sym), rtn(w, 32, sym))


def test_gptq_lowers_the_output_error_of_correlated_inputs():
    torch.manual_seed(4)
    x = torch.randn(512, 8) @ torch.randn(8, 64) + 0.1 * torch.randn(512, 64)  # inputs on a low-rank subspace
    w = torch.randn(16, 64)
    hessian = 2 * x.T.double() @ x.double()
    error = {name: float(((x @ (w - q).T) ** 2).sum())
             for name, q in (("rtn", rtn(w, 32, False)), ("gptq", gptq(w, hessian, 32, False)))}
    assert error["gptq"] < 0.5 * error["rtn"]


@pytest.fixture(scope="module")
def tiny_model(tiny_llm):
    return load_fp32(tiny_llm)


def _linears(model):
    return {n: m for n, m in model.model.layers.named_modules() if isinstance(m, torch.nn.Linear)}


def test_quantize_model_puts_every_decoder_linear_on_its_grid(tiny_model):
    saved = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    windows = [list(range(10, 60)), list(range(100, 140))]
    try:
        with pytest.raises(ValueError, match="calibration"):
            quantize_model(tiny_model, QuantSpec("gptq", 32, True))
        calls = []
        quantize_model(tiny_model, QuantSpec("gptq", 32, True), windows, progress=lambda: calls.append(1))
        assert len(calls) == len(tiny_model.model.layers)
        for name, module in _linears(tiny_model).items():
            w = module.weight.data
            assert not torch.equal(w, saved[f"model.layers.{name}.weight"])
            blocks = w.reshape(w.shape[0], -1, 32).reshape(-1, 32)
            assert max(len(torch.unique(b)) for b in blocks) <= 16  # each block on a 16-level grid
        tiny_model.load_state_dict(saved)
        quantize_model(tiny_model, QuantSpec("rtn", 32, False))
        for name, module in _linears(tiny_model).items():
            torch.testing.assert_close(module.weight.data, rtn(saved[f"model.layers.{name}.weight"], 32, False))
    finally:
        tiny_model.load_state_dict(saved)
