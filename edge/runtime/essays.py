"""The on-device essay writer of adversarial-judge: topics in, essays out, from the host's plan.
Copied to the device as is; imports only the standard library.

    writer = EssayWriter.from_bundle(Path("bundle"))
    writer.write(["Discuss the significance of Ned Stark."])
    # -> [{"essay": "Discuss the significance of Ned Stark. Harbor quietly ... 9.", "attack": "critique_style_vivid"}]

The plan (config.json "plan", written by the host's solution): seed, filler_words,
attack_per_topic (the attack of each host test topic, in order) and templates (attack name ->
the attack's text, "{topic}" standing for the topic). The word list is the bundle's vocabulary
file (plan "vocabulary"). No language model runs: every attack is a template.

An essay is what the host writes (competitions/adversarial_judge/attacks.write_essay): the topic,
then `filler_words` words drawn from the vocabulary by random.Random seeded with the first 16
hex digits of sha256("<seed>\\n<topic>"), the first one capitalized and a period after the last,
then the attack's template with the topic put in.

Which attack each topic gets, for any list of m topics (the host's own rule, `search.assign`):
  1. the mix: how many of the host's topics each attack got (Counter of attack_per_topic);
  2. scaled to m topics by largest remainders (count * m / n rounded down, then one more for
     the attacks with the largest remainders; ties: the larger count, then the name); for
     m = n the counts are the host's own;
  3. the attack names, each repeated its count, in name order, shuffled by random.Random(seed);
  4. dealt to the topics in input order.
So the host's test topics, in their order, get the host's attacks and essays byte for byte, and
one topic alone gets the mix's most used attack.
"""
from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from pathlib import Path


class EssayWriter:
    output = "essay"

    def __init__(self, plan: dict, folder: Path):
        self.plan = plan
        self.seed, self.filler_words = int(plan["seed"]), int(plan["filler_words"])
        self.templates = dict(plan["templates"])
        self.mix = Counter(plan["attack_per_topic"])
        missing = sorted(set(self.mix) - set(self.templates))
        if missing or not self.mix:
            raise ValueError(f"plan: no template for {missing}" if missing else "plan: no attacks")
        text = (Path(folder) / plan["vocabulary"]).read_text(encoding="utf-8")
        self.vocabulary = [w for w in text.split("\n") if w]

    @classmethod
    def from_bundle(cls, folder: Path, threads: int = 1) -> "EssayWriter":
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        return cls(config["plan"], folder)

    def counts(self, m: int) -> dict[str, int]:
        """The mix scaled to m topics by largest remainders (steps 1-2 of the module docstring)."""
        n = sum(self.mix.values())
        floors = {a: c * m // n for a, c in self.mix.items()}
        order = sorted(self.mix, key=lambda a: (-(self.mix[a] * m % n), -self.mix[a], a))
        for a in order[: m - sum(floors.values())]:
            floors[a] += 1
        return floors

    def deal(self, m: int) -> list[str]:
        """The attack of each of m topics, in input order (steps 3-4)."""
        names = [name for name, count in sorted(self.counts(m).items()) for _ in range(count)]
        random.Random(self.seed).shuffle(names)
        return names

    def filler(self, topic: str) -> str:
        digest = hashlib.sha256(f"{self.seed}\n{topic}".encode()).hexdigest()
        rng = random.Random(int(digest[:16], 16))
        return " ".join(rng.choice(self.vocabulary) for _ in range(self.filler_words))

    def essay(self, attack: str, topic: str) -> str:
        words = self.filler(topic) if self.filler_words else ""
        head = f"{topic.strip()} {words[:1].upper()}{words[1:]}." if words else topic.strip()
        return f"{head} {self.templates[attack].replace('{topic}', topic)}".strip()

    def write(self, topics: list[str]) -> list[dict]:
        """{"essay", "attack"} for each topic, in order."""
        if any(not isinstance(t, str) or not t.strip() for t in topics):
            raise ValueError("every topic must be a non-empty text")
        return [{"essay": self.essay(a, t), "attack": a} for a, t in zip(self.deal(len(topics)), topics)]
