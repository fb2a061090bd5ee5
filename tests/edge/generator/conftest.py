"""What the generator tests share: reading a MatMulNBits back to its weights."""
from __future__ import annotations

import numpy as np
import pytest


def dequantize(inits: dict, node) -> np.ndarray:
    """(N, K padded to whole blocks) float64 weights of a MatMulNBits node, from its initializers
    (name -> numpy array): 4- or 8-bit codes, scales, and zero points (absent: symmetric, 2**(bits-1))."""
    attrs = {a.name: a.i for a in node.attribute}
    bits, block = attrs["bits"], attrs["block_size"]
    packed = inits[node.input[1]]
    n = packed.shape[0]
    codes = packed.reshape(n, -1) if bits == 8 else np.stack([packed & 0x0F, packed >> 4], -1).reshape(n, -1)
    codes = codes.astype(np.int64).reshape(n, -1, block)
    scales = inits[node.input[2]].astype(np.float64).reshape(n, -1)
    if len(node.input) > 3 and node.input[3]:
        zero = inits[node.input[3]].reshape(n, -1)
        if bits == 4:
            zero = np.stack([zero & 0x0F, zero >> 4], -1).reshape(n, -1)
        zero = zero[:, :codes.shape[1]].astype(np.int64)
    else:
        zero = np.full(scales.shape, 2 ** (bits - 1))
    return ((codes - zero[..., None]) * scales[..., None]).reshape(n, -1)


@pytest.fixture
def matmulnbits_weights():
    """dequantize(inits, node), as a fixture."""
    return dequantize
