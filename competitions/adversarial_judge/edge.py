"""What `make edge COMP=adversarial-judge` ports: the solution's plan, run on the device as it is.

    ps = spec(dataset, seed=42, fast=False, options={})    # a common.port_set.PortSet
    make edge COMP=adversarial-judge [ARGS="--set edge_lm=int8"]

The solution (solution.run, its `--set` options from `options`) searches the attack mix on the
development and validation panels and writes one essay per test topic; its info["plan"] says how
(seed, filler_words, attack_per_topic, templates, and writers when the mix deals SmolLM2's own
essays). The plan and the filler vocabulary go to the device (edge/runtime/essays.py); a plan with
writers also takes the causal LM, exported by edge/generator as `lm_variant` (`edge_lm`, default
int4-q41, the compression study's int4 on the weights' own Q4_1 grid). The device must write the
attack essays byte for byte for the test topics (checked when bundling and by the smoke test on
the device); its written essays come from its own export of the model, one at a time, so they are
not the host's text: both sets are scored on the host by the development panel (search.judge_set;
judgements are cached on disk, so identical essays cost nothing), and the port is judged by that.
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
DEFAULT_LM = "int4-q41"   # an edge/generator/export.py SHIPPABLE variant, for plans with writers


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
    lm_variant = str(options.pop("edge_lm", DEFAULT_LM))
    result = solution.run(RunContext(COMPETITION, data, seed=seed, fast=fast, options=options, also_known=("edge_lm",)))
    plan = result.info.get("plan")
    if not plan:
        raise UserError("the solution's info has no plan (seed, filler_words, attack_per_topic, templates)")
    written = sorted(plan.get("writers") or {})
    if written:
        plan = {**plan, "lm_variant": lm_variant}
    topics = [str(t) for t in data.tables["test"]["topic"].to_list()]
    essays = result.submission["essay"].to_list()
    dev = result.cv["attack_mix"]        # the port's own score judges with the development panel
    held = result.cv.get(result.best) if result.best != "attack_mix" else None
    what = f"attacks and {', '.join(written)} essays ({lm_variant} on the device)" if written else "attacks alone"
    teacher = (f"attack_mix of {what} (mix {result.info.get('mix')}), chosen by {result.info.get('chosen_by')}; "
               f"scored here by the development panel" + (f" (the held-out panel gave {held.mean:.4f})" if held else ""))
    info = {"submitted": "attack_mix", "mix": result.info.get("mix"), "panel": dev.panel,
            "development_score": round(dev.mean, 4), "topics": len(topics), "data_source": data.source,
            **({"lm_variant": lm_variant, "written": written} if written else {})}
    if result.best != "attack_mix":
        info["held_out_score"] = round(result.cv[result.best].mean, 4)
    return port_set(topics, essays, plan, filler_vocabulary(), teacher, info=info)
