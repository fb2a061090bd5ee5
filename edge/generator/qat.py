"""Quantization-aware training of a causal LM on the int4 export's own grid, distilled from its fp32
self (PyTorch, host only): the int4 that the fast kernel runs, trained to keep fp32's next tokens.

    from edge.generator.qat import QATConfig, qat_folder
    folder, folder_id = qat_folder(base, base_id, texts_id(texts), texts, QATConfig(steps=600))
    # folder: an HF folder whose decoder Linears and LM head (and a tied embedding) already lie on
    # the builder's symmetric int4 grid, so its `-p int4` export re-codes them exactly

Every decoder Linear and the LM head compute with their weights fake-quantized as MatMulNBits
stores them (symmetric int4, blocks of `block` inputs, the block's largest-magnitude weight at
code -8: edge/generator/gptq.py's grid), and with their inputs rounded to int8 in blocks of the
same size with one scale a block (accuracy level 4's int8 compute, which blocks A as it blocks B).
Rounding passes gradients straight through (STE), so the fp32 master weights move until their
rounded copies reproduce the teacher: the loss is the KL divergence from the fp32 model's
next-token distribution to the student's, on packed windows of calibration text (LLM-QAT, Liu et
al. 2023; EfficientQAT's end-to-end step). The scales follow the weights (no learned clipping),
which is what keeps the export exact; or, with `scale_lr`, each block's scale is learned too (LSQ,
Esser et al. 2020: its log magnitude, from the builder's scale, clipping the block where that helps)
and the export writes the learned codes and scales into the MatMulNBits itself
(edge/generator/learned_grid.py). Training checkpoints every `checkpoint_every` steps and
resumes from there; the finished folder is cached by the hash of the base weights, the texts and
the config.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.atomic import atomic_dir
from common.errors import UserError
from common.paths import cache_dir
from common.threads import default_threads

SCALES_FILE = "QAT_SCALES.npz"  # a learned-scale QAT folder's signed scales per Linear name, (N, blocks)


@dataclass(frozen=True)
class QATConfig:
    """steps x batch windows of `window` tokens (packed text, one EOS between texts); lr: AdamW's
    peak, reached after `warmup` steps and decayed by a cosine to 0; block: the int4 grid's block (the
    export's block_size must be the same: export.qat_variant refuses a recipe where it is not);
    act_int8: round the Linears' inputs as accuracy level 4 does; validation: windows held back
    from training (the first ones) for the loss and agreement logged at each checkpoint; bf16: the
    training steps under bf16 autocast (the master weights stay fp32; validation runs in fp32);
    scale_lr: 0 keeps each block's scale at its largest weight (the builder's grid); above 0 the
    scales are learned at this AdamW learning rate (on their log magnitude), from that start."""

    steps: int = 600
    batch: int = 4
    window: int = 256
    lr: float = 2e-5
    warmup: int = 20
    block: int = 32
    act_int8: bool = True
    bf16: bool = True
    validation: int = 16
    checkpoint_every: int = 50
    seed: int = 0
    scale_lr: float = 0.0

    def key_fields(self) -> dict:
        fields = dataclasses.asdict(self)
        del fields["checkpoint_every"]
        if not self.scale_lr:  # added later: in the key only when set, so earlier folders stay valid
            del fields["scale_lr"]
        return fields


def _blocks(t, block: int):
    """(t's last axis cut into blocks of `block`, zero-padded at the end as MLAS pads a short last
    block: (..., n, block); the unpadded length)."""
    import torch.nn.functional as F

    cols = t.shape[-1]
    return F.pad(t, (0, -cols % block)).reshape(*t.shape[:-1], -1, block), cols


def _rounding():
    """The two straight-through roundings as torch autograd Functions (built on first use: torch is host-only)."""
    import torch

    from edge.generator.gptq import block_grid, fake_quant

    class WeightInt4(torch.autograd.Function):
        @staticmethod
        def forward(ctx, w, block):
            groups, cols = _blocks(w, block)
            return fake_quant(groups, *block_grid(groups, symmetric=True)).reshape(w.shape[0], -1)[:, :cols]

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    class ActivationInt8(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, block):
            groups, cols = _blocks(x, block)
            scale = groups.abs().amax(-1, keepdim=True) / 127
            scale = torch.where(scale == 0, torch.ones_like(scale), scale)
            return (torch.round(groups / scale) * scale).reshape(*x.shape[:-1], -1)[..., :cols]

        @staticmethod
        def backward(ctx, grad):
            return grad, None

    return WeightInt4, ActivationInt8


def learned_grid(weight, block: int):
    """A torch Module holding a learned signed scale per block of `weight` (N, K), started at the
    builder's (the block's largest-magnitude weight at code -8); grid(w) is w on that grid, codes
    clamp(round(w / scale), -8, 7), rounding straight-through and the scales learning as LSQ's do."""
    import torch

    from edge.generator.gptq import block_grid

    class LearnedGrid(torch.nn.Module):
        def __init__(self):
            super().__init__()
            scale, _ = block_grid(_blocks(weight.detach(), block)[0], symmetric=True)
            self.register_buffer("sign", torch.sign(scale))
            self.log_scale = torch.nn.Parameter(torch.log(scale.abs()))

        def scale(self):
            """(N, blocks, 1) signed scales."""
            return self.sign * self.log_scale.exp()

        def forward(self, w):
            groups, cols = _blocks(w, block)
            scale = self.scale()
            x = groups / scale
            codes = torch.clamp(x + (torch.round(x) - x).detach(), -8, 7)
            return (codes * scale).reshape(w.shape[0], -1)[:, :cols]

    return LearnedGrid()


def attach_fake_quant(model, block: int = 32, act_int8: bool = True, learn_scales: bool = False):
    """Make every decoder Linear and the LM head of a Llama-style model compute on int4 weights (and
    int8 inputs); a tied input embedding reads the head's grid too, as the builder's shared
    GatherBlockQuantized does. With learn_scales each of them gains a `grid` (learned_grid) whose
    scales train with the weights. In place; the parameters stay the fp32 masters. Returns the model."""
    import torch
    import torch.nn.functional as F

    weight_int4, act_int8_fn = _rounding()

    def rounded(module):
        return module.grid(module.weight) if learn_scales else weight_int4.apply(module.weight, block)

    class QuantLinear(torch.nn.Module):
        def __init__(self, linear):
            super().__init__()
            self.weight, self.bias = linear.weight, linear.bias
            if learn_scales:
                self.grid = learned_grid(linear.weight, block)

        def forward(self, x):
            x = act_int8_fn.apply(x, block) if act_int8 else x
            return F.linear(x, rounded(self), self.bias)

    class QuantEmbedding(torch.nn.Module):
        def __init__(self, embedding, head):
            super().__init__()
            self.weight = embedding.weight
            if learn_scales:
                self.grid = head.grid

        def forward(self, ids):
            return F.embedding(ids, rounded(self))

    for layer in model.model.layers:
        for module in list(layer.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, torch.nn.Linear):
                    setattr(module, name, QuantLinear(child))
    tied = model.lm_head.weight is model.model.embed_tokens.weight
    model.lm_head = QuantLinear(model.lm_head)
    if tied:
        model.model.embed_tokens = QuantEmbedding(model.model.embed_tokens, model.lm_head)
    return model


def learned_weights(student) -> dict:
    """{name: (weight on its learned grid, signed scales (N, blocks))} of a student made by
    attach_fake_quant(..., learn_scales=True), one entry per Linear (the tied embedding is the head's)."""
    import torch

    with torch.no_grad():
        return {name.removesuffix(".grid"): (module(student.get_submodule(name.removesuffix(".grid")).weight),
                                             module.scale()[..., 0])
                for name, module in student.named_modules(remove_duplicate=False) if name.endswith(".grid")
                and not name.startswith("model.embed_tokens")}


def grid_weights(model, block: int = 32) -> None:
    """Replace, in place, the weights attach_fake_quant would round by their rounded values (on a
    plain model: decoder Linears, LM head, and a tied embedding with it)."""
    import torch

    weight_int4, _ = _rounding()
    with torch.no_grad():
        linears = [m for m in model.model.layers.modules() if isinstance(m, torch.nn.Linear)] + [model.lm_head]
        for module in linears:
            module.weight.copy_(weight_int4.apply(module.weight, block))


def packed_windows(encode, texts: list[str], window: int, eos: int, max_windows: int | None = None):
    """(n, window) int64 tensor: the texts' token ids one after another, an EOS after each, cut into
    windows; texts are read only until `max_windows` windows are filled (None: all of them)."""
    import torch

    ids: list[int] = []
    for text in texts:
        ids += list(encode(text)) + [eos]
        if max_windows and len(ids) >= max_windows * window:
            break
    count = len(ids) // window if not max_windows else min(len(ids) // window, max_windows)
    return torch.tensor(ids[:count * window], dtype=torch.long).reshape(count, window)


def _kl(student_logits, teacher_logits):
    """Summed KL(teacher || student) over positions, in fp32."""
    import torch.nn.functional as F

    return F.kl_div(F.log_softmax(student_logits.float(), -1), F.log_softmax(teacher_logits.float(), -1),
                    log_target=True, reduction="sum")


def evaluate(student, teacher_logits: list, windows, batch: int) -> dict[str, float]:
    """Next-token agreement and mean KL of the student against precomputed teacher logits."""
    import torch

    agree = kl = count = 0.0
    student.eval()
    with torch.no_grad():
        for i, start in enumerate(range(0, len(windows), batch)):
            logits = student(input_ids=windows[start:start + batch]).logits
            agree += float((logits.argmax(-1) == teacher_logits[i].argmax(-1)).sum())
            kl += float(_kl(logits, teacher_logits[i]))
            count += logits.shape[0] * logits.shape[1]
    student.train()
    return {"agreement": agree / count, "kl": kl / count}


def train(student, teacher, data, config: QATConfig, checkpoint: Path, log=print, progress=None) -> list[dict]:
    """Distil `teacher` into the fake-quantized `student` on `data` ((n, window) token windows, the
    first config.validation held back), resuming from `checkpoint` when it exists. Returns the log
    rows (validation at step 0 and every checkpoint, training loss every 10 steps)."""
    import torch

    torch.manual_seed(config.seed)
    validation, windows = data[:config.validation], data[config.validation:]
    if len(windows) < config.batch or len(validation) < 1:
        raise UserError(f"QAT needs more than {config.validation + config.batch} windows of {config.window} tokens of "
                        f"text; got {len(data)}")
    order = torch.randperm(len(windows), generator=torch.Generator().manual_seed(config.seed))
    with torch.no_grad():
        reference = [teacher(input_ids=validation[s:s + config.batch]).logits
                     for s in range(0, len(validation), config.batch)]
    named = [(n, p) for n, p in student.named_parameters() if p.requires_grad]
    params = [p for n, p in named if not n.endswith("log_scale")]
    scales = [p for n, p in named if n.endswith("log_scale")]
    groups = [{"params": params, "lr": config.lr}] + ([{"params": scales, "lr": config.scale_lr}] if scales else [])
    optimizer = torch.optim.AdamW(groups, betas=(0.9, 0.95), weight_decay=0.0)

    def schedule(step):
        return min(1.0, (step + 1) / config.warmup) * 0.5 * (1 + math.cos(math.pi * min(step, config.steps) / config.steps))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    start, rows = 0, []
    if checkpoint.exists():
        state = torch.load(checkpoint, weights_only=False)
        student.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start, rows = state["step"], state["rows"]
        log(f"qat: resumed at step {start} of {config.steps}")
    else:
        rows.append({"step": 0, **evaluate(student, reference, validation, config.batch)})
        log(f"qat: step 0 validation {rows[-1]}")
    student.train()
    if progress:
        progress(start)
    for step in range(start, config.steps):
        picked = order[[(step * config.batch + j) % len(order) for j in range(config.batch)]]
        ids = windows[picked]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=config.bf16):
            with torch.no_grad():
                target = teacher(input_ids=ids).logits
            loss = _kl(student(input_ids=ids).logits, target) / ids.numel()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if (step + 1) % 10 == 0:
            rows.append({"step": step + 1, "loss": float(loss)})
        if (step + 1) % config.checkpoint_every == 0 or step + 1 == config.steps:
            rows.append({"step": step + 1, **evaluate(student, reference, validation, config.batch)})
            log(f"qat: step {step + 1} validation {rows[-1]}")
            partial = checkpoint.with_suffix(".tmp")
            torch.save({"model": student.state_dict(), "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(), "step": step + 1, "rows": rows}, partial)
            os.replace(partial, checkpoint)
        if progress:
            progress(step + 1)
    return rows


def qat_folder(base: Path, base_id: str, texts_id: str, texts: list[str] | None, config: QATConfig,
               log=print) -> tuple[Path, str]:
    """(folder, identity) of `base` trained by QAT on `texts` (whose texts_id is `texts_id`), its
    rounded weights saved; cached, and resumed from its checkpoint when a run was cut short."""
    fields = [base_id, texts_id, config.key_fields(), 1]
    key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:12]
    target = cache_dir("generator") / f"src-qat-{key}"
    if (target / "config.json").exists():
        return target, f"qat:{key}"
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if not texts:
        raise UserError("QAT needs training texts")
    torch.set_num_threads(default_threads())
    tokenizer = AutoTokenizer.from_pretrained(base)
    data = packed_windows(lambda t: tokenizer(t, add_special_tokens=False).input_ids, texts, config.window,
                          tokenizer.eos_token_id, max_windows=config.validation + config.steps * config.batch)
    log(f"qat: {base.name}, {len(data)} windows of {config.window} tokens, {config.steps} steps of {config.batch}")
    teacher = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    teacher.requires_grad_(False)
    student = attach_fake_quant(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32),
                                config.block, config.act_int8, learn_scales=config.scale_lr > 0)
    work = cache_dir("generator") / f"qat-{key}"
    work.mkdir(parents=True, exist_ok=True)
    with tqdm(total=config.steps, desc="qat", unit="step") as bar:
        rows = train(student, teacher, data, config, work / "checkpoint.pt", log=log,
                     progress=lambda done: bar.update(done - bar.n))
    model = teacher  # done teaching: a plain model to hold the trained weights
    learned = learned_weights(student) if config.scale_lr else {}
    # attach_fake_quant keeps every parameter's name
    model.load_state_dict({k: v for k, v in student.state_dict().items() if ".grid." not in k})
    if learned:
        with torch.no_grad():
            for name, (weight, _) in learned.items():
                model.get_submodule(name).weight.copy_(weight)
    else:
        grid_weights(model, config.block)
    with atomic_dir(target, replace=False) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if learned:
            np.savez(tmp / SCALES_FILE, **{name: scale.numpy() for name, (_, scale) in learned.items()})
        (tmp / "QAT.json").write_text(json.dumps({"base": base_id, "texts": texts_id, "windows": len(data),
                                                  "config": dataclasses.asdict(config), "log": rows}, indent=1))
    return target, f"qat:{key}"
