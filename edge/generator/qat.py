"""Quantization-aware training of a causal LM on the int4 export's own grid, distilled from its fp32
self (PyTorch, host only): the int4 that the fast kernel runs, trained to keep fp32's next tokens.

    from edge.generator.qat import QATConfig, qat_folder
    folder, folder_id = qat_folder(base, base_id, texts_id(texts), texts, QATConfig(steps=600))
    # folder: an HF folder whose decoder Linears and LM head (and a tied embedding) already lie on
    # the builder's int4 grid, so its `-p int4` export re-codes them exactly

Every decoder Linear and the LM head compute with their weights fake-quantized as MatMulNBits
stores them (edge/generator/fake_quant.py: the builder's symmetric int4 by default, or its
asymmetric int4 with an asymmetric int8 head), with their inputs rounded to int8 in blocks as
accuracy level 4 does. Rounding passes gradients straight through (STE), so the fp32 master
weights move until their rounded copies reproduce the teacher: the loss is the KL divergence from
the fp32 model's next-token distribution to the student's, on packed windows of calibration text
(LLM-QAT, Liu et al. 2023; EfficientQAT's end-to-end step), with `top1_weight` plus a cross-entropy
push towards fp32's argmax at the positions where the student's differs (distill_loss). The scales follow the weights (no
learned clipping), which is what keeps the export exact; or, with `scale_lr`, each block's scale
is learned too (LSQ) and the export writes the learned codes and scales into the MatMulNBits itself
(edge/generator/learned_grid.py). Training checkpoints every `checkpoint_every` steps and
resumes from there; the finished folder is cached by the hash of the base weights, the texts and
the config.
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.atomic import atomic_dir
from common.cache_keys import json_key
from common.errors import UserError
from common.paths import cache_dir
from common.threads import default_threads

LATE_FIELDS = ("scale_lr", "symmetric", "head_bits", "top1_weight")  # QATConfig fields added after the first trained folders
SCALES_FILE = "QAT_SCALES.npz"  # a learned-scale QAT folder's signed scales per Linear name, (N, blocks)


@dataclass(frozen=True)
class QATConfig:
    """steps x batch windows of `window` tokens (packed text, one EOS between texts); lr: AdamW's
    peak, reached after `warmup` steps and decayed by a cosine to 0; block: the int4 grid's block (the
    export's block_size must be the same: variants.qat_variant refuses a recipe where it is not);
    act_int8: round the Linears' inputs as accuracy level 4 does; validation: windows held back
    from training (the first ones) for the loss and agreement logged at each checkpoint; bf16: the
    training steps under bf16 autocast (the master weights stay fp32; validation runs in fp32);
    scale_lr: 0 keeps each block's scale at its largest weight (the builder's grid); above 0 the
    scales are learned at this AdamW learning rate (on their log magnitude), from that start;
    symmetric, head_bits: the grids (fake_quant.Grid: False and 8 for an asymmetric body and an
    asymmetric int8 LM head); top1_weight: above 0, the loss adds this times the cross-entropy of
    fp32's argmax at the positions where the student's argmax differs (distill_loss)."""

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
    symmetric: bool = True
    head_bits: int = 4
    top1_weight: float = 0.0

    def key_fields(self) -> dict:
        fields = dataclasses.asdict(self)
        del fields["checkpoint_every"]
        for field in dataclasses.fields(self):
            if field.name in LATE_FIELDS and fields[field.name] == field.default:
                del fields[field.name]  # added later: in the key only when set, so earlier folders stay valid
        return fields

    def variant_fields(self) -> tuple:
        """Its fields as variants.Variant.qat holds them: the later ones only when set, as in key_fields,
        so the exports built before them keep their cache keys."""
        return tuple(sorted((self.key_fields() | {"checkpoint_every": self.checkpoint_every}).items()))

    def grid(self):
        """The fake_quant.Grid it trains on."""
        from edge.generator.fake_quant import Grid

        return Grid(self.block, self.symmetric, self.head_bits, self.act_int8, learn_scales=self.scale_lr > 0)


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


def distill_loss(student_logits, teacher_logits, top1_weight: float = 0.0):
    """Mean KL(teacher || student) per position; with top1_weight, plus that weight times the
    cross-entropy of the teacher's argmax summed over the positions where the student's argmax
    differs, over all positions: a push on the flipped next tokens only, none on the agreeing ones."""
    import torch.nn.functional as F

    positions = student_logits.shape[0] * student_logits.shape[1]
    loss = _kl(student_logits, teacher_logits) / positions
    if top1_weight:
        top = teacher_logits.argmax(-1)
        flipped = (student_logits.argmax(-1) != top).flatten().nonzero().squeeze(-1)
        ce = F.cross_entropy(student_logits.flatten(0, 1)[flipped].float(), top.flatten()[flipped], reduction="sum")
        loss = loss + top1_weight * ce / positions
    return loss


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
            loss = distill_loss(student(input_ids=ids).logits, target, config.top1_weight)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if (step + 1) % 10 == 0:
            rows.append({"step": step + 1, "loss": float(loss.detach())})
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
    key = json_key(fields, sort_keys=True)
    target = cache_dir("generator") / f"src-qat-{key}"
    if (target / "config.json").exists():
        return target, f"qat:{key}"
    import torch
    from tqdm import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from edge.generator.fake_quant import attach_fake_quant, grid_weights, learned_weights

    if not texts:
        raise UserError("QAT needs training texts")
    torch.set_num_threads(default_threads())
    tokenizer = AutoTokenizer.from_pretrained(base)
    data = packed_windows(lambda t: tokenizer(t, add_special_tokens=False).input_ids, texts, config.window,
                          tokenizer.eos_token_id, max_windows=config.validation + config.steps * config.batch)
    log(f"qat: {base.name}, {len(data)} windows of {config.window} tokens, {config.steps} steps of {config.batch}")
    teacher = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32).eval()
    teacher.requires_grad_(False)
    student = attach_fake_quant(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), config.grid())
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
        grid_weights(model, config.grid())
    with atomic_dir(target, replace=False) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if learned:
            np.savez(tmp / SCALES_FILE, **{name: scale.numpy() for name, (_, scale) in learned.items()})
        (tmp / "QAT.json").write_text(json.dumps({"base": base_id, "texts": texts_id, "windows": len(data),
                                                  "config": dataclasses.asdict(config), "log": rows}, indent=1))
    return target, f"qat:{key}"
