"""What `make edge COMP=adversarial-judge` ports: the solution's plan, run on the device as it is.

    ps = spec(dataset, seed=42, fast=False, options={})    # a common.port_set.PortSet

The solution (solution.run, its `--set` options from `options`) searches the attack mix on the
development and validation panels and writes one essay per test topic; its info["plan"] says how (seed,
filler_words, attack_per_topic, templates). Every attack is a template, so no language model
goes to the device: the plan and the filler vocabulary do (edge/runtime/essays.py). The port's
search therefore deals attacks alone (search_honest=0): the submitted mix may also deal
SmolLM2's own essays, which the device could not write. The device
must write the submitted essays byte for byte for the test topics (checked when bundling and by
the smoke test on the device), and both sets are scored on the host by the development panel
(search.judge_set; judgements are cached on disk, so identical essays cost nothing).
"""
from __future__ import annotations

from common.data import Dataset
from common.errors import UserError
from common.llm.panels import DEVELOPMENT_PANEL
from common.port_set import PortSet
from common.solution import RunContext
from competitions.adversarial_judge import COMPETITION, solution
from competitions.adversarial_judge.attacks import filler_vocabulary
from competitions.adversarial_judge.search import judge_set

VOCABULARY = "vocabulary.txt"


def port_set(topics: list[str], essays: list[str], plan: dict, vocabulary: list[str], teacher: str,
             score=None, info: dict | None = None) -> PortSet:
    """The PortSet of a plan and the essays it wrote for `topics` (score: None -> the development panel)."""
    score = score or (lambda written: judge_set(topics, written, DEVELOPMENT_PANEL).value)
    return PortSet(kind="essay_writer", plan={**plan, "vocabulary": VOCABULARY}, metric=COMPETITION.metric,
                   teacher=teacher, input_columns=("topic",), output_column="essay",
                   inputs=topics, outputs=essays, holdout_inputs=topics, holdout_outputs=essays, score=score,
                   assets={VOCABULARY: "\n".join(vocabulary) + "\n"}, info=info or {})


def spec(data: Dataset, seed: int = 42, fast: bool = False, options: dict | None = None) -> PortSet:
    options = dict(options or {})
    if str(options.get("search_honest", "0")).strip() != "0":
        raise UserError("make edge ports a plan of attack templates (the device runs no language model for "
                        "essays), so its search deals attacks alone: run it without search_honest=1 (--set or an experiment)")
    options["search_honest"] = "0"
    result = solution.run(RunContext(COMPETITION, data, seed=seed, fast=fast, options=options))
    plan = result.info.get("plan")
    if not plan:
        raise UserError("the solution's info has no plan (seed, filler_words, attack_per_topic, templates)")
    topics = [str(t) for t in data.tables["test"]["topic"].to_list()]
    essays = result.submission["essay"].to_list()
    dev = result.cv["attack_mix"]        # the port's own score judges with the development panel
    held = result.cv.get(result.best) if result.best != "attack_mix" else None
    teacher = (f"attack_mix of attacks alone (mix {result.info.get('mix')}), chosen by {result.info.get('chosen_by')}; "
               f"scored here by the development panel" + (f" (the held-out panel gave {held.mean:.4f})" if held else ""))
    info = {"submitted": "attack_mix", "mix": result.info.get("mix"), "panel": dev.panel,
            "development_score": round(dev.mean, 4), "topics": len(topics), "data_source": data.source}
    if result.best != "attack_mix":
        info["held_out_score"] = round(result.cv[result.best].mean, 4)
    return port_set(topics, essays, plan, filler_vocabulary(), teacher, info=info)
