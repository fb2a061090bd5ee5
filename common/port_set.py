"""What a competition hands to `make edge` when its best solution is a plan the device can run as
it is, with no model to distill: the plan, the kind of device program that reads it, the host's
own outputs, and a held-out comparison that the host scores.

A competition's edge spec (see common.distill_set) returns a PortSet instead of a DistillSet:

    PortSet(kind="essay_writer", plan={"seed": 42, "templates": {...}, ...}, metric="judge_score",
            teacher="attack_mix of the attack library, searched on two panels",
            input_columns=("topic",), output_column="essay",
            inputs=topics, outputs=essays,                  # the host's submission: reproduced exactly
            holdout_inputs=topics, holdout_outputs=essays,  # where host and device are scored
            score=lambda outputs: judge_set(topics, outputs, DEVELOPMENT_PANEL).value,
            assets={"vocabulary.txt": "..."})
    ps.holdout_groups()    # [(plan, row indices)]: which plan writes which held-out rows

inputs / outputs: the host's inputs (the test rows) and what it submitted for them; the device
program must write exactly these outputs from the plan, or nothing ships. holdout_inputs /
holdout_outputs: rows both are scored on, with the host's outputs there. holdout_plans: when
the host's held-out outputs come from plans fitted without those rows (cross-fitting), the
(plan, row indices) of each fold; None: the shipped plan writes every held-out row. score: the
metric of outputs written for holdout_inputs, computed on the host (an LLM judge panel, a
sentence encoder). input_columns: the CSV columns of one input (one column: texts; two: text
pairs). output_column: the submission's column of the output. assets: extra bundle files, name
-> text, that the plan names (a word list). sources: host objects the kind's steps turn into
bundle files (a searched retriever, a solved-question memory); never written out. info:
provenance, copied into the edge report.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

from common.errors import UserError
from common.metrics import MetricDirection, get_metric
from common.training.inputs import check_inputs, is_pairs

# The device programs a plan can be run by (edge/runtime/detect.py KINDS names their files).
PORT_KINDS = ("essay_writer", "prompt_writer", "science_answerer")


def _texts(values, n: int, what: str) -> list[str]:
    values = list(values)
    if len(values) != n or not all(isinstance(v, str) for v in values):
        raise UserError(f"port set: {what} must be {n} strings, got {len(values)} values")
    return values


def _json(value, what: str):
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise UserError(f"port set: {what} must be plain JSON ({exc})") from None


@dataclass
class PortSet(MetricDirection):
    """A plan to run on the device as it is (see the module docstring)."""

    kind: str
    plan: dict
    metric: str
    teacher: str
    input_columns: tuple[str, ...]
    output_column: str
    inputs: list
    outputs: list[str]
    holdout_inputs: list
    holdout_outputs: list[str]
    score: Callable[[list[str]], float]
    holdout_plans: list[tuple[dict, list[int]]] | None = None
    assets: dict[str, str] = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in PORT_KINDS:
            raise UserError(f"port set: kind {self.kind!r} is not one of {', '.join(PORT_KINDS)}")
        get_metric(self.metric)
        self.input_columns = tuple(str(c) for c in self.input_columns)
        if len(self.input_columns) not in (1, 2) or not self.output_column:
            raise UserError("port set: want one or two input columns and an output column")
        self.plan = _json(self.plan, "plan")
        self.inputs = check_inputs(self.inputs, "port set inputs")
        self.holdout_inputs = check_inputs(self.holdout_inputs, "port set holdout_inputs")
        for name, values in (("inputs", self.inputs), ("holdout_inputs", self.holdout_inputs)):
            if is_pairs(values) != (len(self.input_columns) == 2):
                raise UserError(f"port set: {name} must be {'pairs' if self.pairs else 'texts'}, "
                                f"as the input columns {self.input_columns} say")
        self.outputs = _texts(self.outputs, len(self.inputs), "outputs")
        self.holdout_outputs = _texts(self.holdout_outputs, len(self.holdout_inputs), "holdout_outputs")
        if self.holdout_plans is not None:
            self.holdout_plans = [(_json(p, "a holdout plan"), [int(i) for i in rows]) for p, rows in self.holdout_plans]
            covered = sorted(i for _, rows in self.holdout_plans for i in rows)
            if covered != list(range(len(self.holdout_inputs))):
                raise UserError("port set: the holdout plans must cover every held-out row exactly once")
        if not all(isinstance(k, str) and "/" not in k and isinstance(v, str) for k, v in self.assets.items()):
            raise UserError("port set: assets are file name -> text, names without '/'")
        self.teacher, self.info = str(self.teacher), dict(self.info)

    @property
    def pairs(self) -> bool:
        return len(self.input_columns) == 2

    def holdout_groups(self) -> list[tuple[dict, list[int]]]:
        """(plan, held-out row indices) pairs: the cross-fitted plans, else the shipped plan for all."""
        return self.holdout_plans or [(self.plan, list(range(len(self.holdout_inputs))))]
