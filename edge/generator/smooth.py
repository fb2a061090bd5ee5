"""SmoothQuant's migration of activation outliers into the weights, before int8 (PyTorch, host only).

    from edge.generator.smooth import smooth_llama
    smooth_llama(model, windows, alpha=0.5)    # in place; the model computes the same function

onnxruntime's int8 MatMulNBits at accuracy level 4 rounds each token's activations to int8 in
blocks of 32 inputs with one scale per block, so a channel far larger than its neighbours
coarsens their grid: in SmolLM2 that rounding, not the weights', costs most of int8's next-token
agreement. Per input channel k of a decoder linear, with x_k its largest |activation| on the
calibration tokens and w_k its weights' largest |value| (over the linears reading that input),
s_k = x_k^alpha / w_k^(1 - alpha) (SmoothQuant, Xiao et al. 2023); the input is divided by s_k
and the weights' column k multiplied by it, which leaves every product as it was. The division
is folded into what makes the input, so nothing is added to the graph:
- q/k/v and gate/up: the RMSNorm weight before them;
- down_proj: up_proj's output rows (silu(gate) * up is linear in up);
- o_proj: v_proj's output rows (attention is linear in V); with grouped-query attention the query
  heads of a group share a value head, so they share its scales (the largest of the group's).
"""
from __future__ import annotations

LAYER_PARTS = ("input_layernorm", "post_attention_layernorm", "self_attn.q_proj", "self_attn.k_proj",
               "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj")
MIN_STAT = 1e-5


def migration_scales(act_max, weights: list, alpha: float):
    """s_k for an input read by `weights` (each (out, in)), its channels' largest |activation| act_max."""
    import torch

    w_max = torch.cat([w.detach().abs() for w in weights]).amax(dim=0)
    return act_max.clamp(min=MIN_STAT) ** alpha / w_max.clamp(min=MIN_STAT) ** (1 - alpha)


def smooth_llama(model, windows: list[list[int]], alpha: float = 0.5) -> dict[str, float]:
    """Smooth every decoder layer of a Llama-style model (SmolLM2) in place, from the inputs'
    largest |activation| on the calibration `windows`; returns the largest and smallest scale."""
    import torch

    from edge.generator.calibrate import input_absmax

    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    layers = model.model.layers
    for layer in layers:
        for part in LAYER_PARTS:
            try:
                layer.get_submodule(part)
            except AttributeError:
                raise ValueError(f"not a Llama-style decoder: a layer has no {part}") from None
    config = model.config
    groups = config.num_attention_heads // config.num_key_value_heads
    head = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    stats = input_absmax(model, windows)
    scales = []
    with torch.no_grad():
        for i, layer in enumerate(layers):
            attn, mlp = layer.self_attn, layer.mlp
            for norm, linears, name in (
                    (layer.input_layernorm, (attn.q_proj, attn.k_proj, attn.v_proj), "self_attn.q_proj"),
                    (layer.post_attention_layernorm, (mlp.gate_proj, mlp.up_proj), "mlp.gate_proj")):
                s = migration_scales(stats[f"{i}.{name}"], [m.weight for m in linears], alpha)
                norm.weight.div_(s)
                for m in linears:
                    m.weight.mul_(s)
                scales.append(s)
            s = migration_scales(stats[f"{i}.mlp.down_proj"], [mlp.down_proj.weight], alpha)
            mlp.up_proj.weight.div_(s[:, None])
            mlp.down_proj.weight.mul_(s)
            scales.append(s)
            s = migration_scales(stats[f"{i}.self_attn.o_proj"], [attn.o_proj.weight], alpha)
            s = s.reshape(config.num_key_value_heads, groups, head).amax(dim=1)   # (kv heads, head dim)
            attn.v_proj.weight.div_(s.reshape(-1)[:, None])
            attn.o_proj.weight.mul_(s[:, None, :].expand(-1, groups, -1).reshape(-1))
            scales.append(s.reshape(-1))
    every = torch.cat(scales)
    return {"max_scale": float(every.max()), "min_scale": float(every.min())}
