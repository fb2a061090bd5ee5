"""The on-device prompt writer of prompt-recovery: (original, rewritten) text in, the rewrite
prompt out, from the host's plan. Copied to the device as is; imports only the standard library.

    writer = PromptWriter.from_bundle(Path("bundle"))
    writer.write([("The original text.", "The rewritten text.")])
    # -> [{"rewrite_prompt": "Rewrite this text as an manner described says", "rule": "mean prompt alone"}]

The plan (config.json "plan", from the host's submitted variant): mean_prompt (the string the
host's beam search learned against the metric's encoder) and rule (the host's `combined` rule:
member, mean_first, floor). A rule with no member writes the mean prompt for every input, which
is what the host submits when its rule, chosen on the training folds, keeps the mean prompt
alone. A rule that joins a member's guess to the mean prompt would need that member on the
device (SmolLM2 for the LM members); the host refuses to bundle such a plan, and this writer
refuses to run one.
"""
from __future__ import annotations

import json
from pathlib import Path


class PromptWriter:
    output = "rewrite_prompt"

    def __init__(self, plan: dict, folder: Path | None = None):
        self.mean_prompt, self.rule = str(plan["mean_prompt"]), dict(plan["rule"])
        if self.rule.get("member") is not None:
            raise ValueError(f"plan: the rule uses member {self.rule['member']!r}, which this bundle does not hold")

    @classmethod
    def from_bundle(cls, folder: Path, threads: int = 1) -> "PromptWriter":
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        return cls(config["plan"], folder)

    def write(self, pairs: list[tuple[str, str]]) -> list[dict]:
        """{"rewrite_prompt", "rule"} for each (original, rewritten) pair, in order."""
        if any(len(p) != 2 or not all(isinstance(t, str) and t.strip() for t in p) for p in pairs):
            raise ValueError("every input must be a non-empty original text and rewritten text")
        return [{"rewrite_prompt": self.mean_prompt, "rule": "mean prompt alone"} for _ in pairs]
