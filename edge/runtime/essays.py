"""The on-device essay writer of adversarial-judge: topics in, essays out, from the host's plan.
Copied to the device as is; imports only the standard library, and for a plan with writers the
causal LM beside it (causal_lm.py, lm_sampling.py: onnxruntime, tokenizers, numpy).

    writer = EssayWriter.from_bundle(Path("bundle"))
    writer.write(["Discuss the significance of Ned Stark."])
    # -> [{"essay": "Discuss the significance of Ned Stark. Harbor quietly ... 9.", "attack": "critique_style_vivid"}]

The plan (config.json "plan", written by the host's solution): seed, filler_words,
attack_per_topic (the attack of each host test topic, in order) and templates (attack name ->
the attack's text, "{topic}" standing for the topic). The word list is the bundle's vocabulary
file (plan "vocabulary"). writers (optional): name -> how the bundle's causal LM writes that
candidate's essay (SmolLM2's honest essay: system, prompt with "{topic}", max_new_tokens,
min_new_tokens, repetition_penalty, max_words); a plan whose mix deals no written candidate has
none, and then no language model runs: every attack is a template.

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

A written essay is the host's way (competitions/adversarial_judge/honest.py) run by the bundle's
model: the prompt as a chat turn after the system message, greedy with the repetition penalty
over the prompt and the answer, no end of turn before min_new_tokens, whitespace runs made one
space, then cut to max_words (clip_words). The host wrote its essays with PyTorch in batches, the
device with its int4 or int8 export one at a time, so they are not the same text: `make edge`
scores them instead of comparing them.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent


def clip_words(text: str, max_words: int) -> str:
    """At most max_words words, cut after the last full sentence that fits when there is one
    (the host's competitions/adversarial_judge/honest.clip_words: the device imports no host code)."""
    words = text.split()
    if len(words) <= max_words:
        return text.strip()
    cut = " ".join(words[:max_words])
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind(".\n"))
    return cut[: end + 1] if end > len(cut) // 2 else cut


def _lm_modules():
    """(causal_lm, lm_sampling): the package's on the host, else the files beside this one."""
    if __package__:
        from . import causal_lm, lm_sampling
        return causal_lm, lm_sampling
    import importlib.util

    loaded = []
    for name in ("causal_lm", "lm_sampling"):
        spec = importlib.util.spec_from_file_location(f"kllm_{name}", HERE / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module    # a dataclass (lm_sampling.Sampler) looks its module up there
        writes, sys.dont_write_bytecode = sys.dont_write_bytecode, True
        try:
            spec.loader.exec_module(module)
        finally:
            sys.dont_write_bytecode = writes
        loaded.append(module)
    return tuple(loaded)


class LmWriter:
    """A written candidate's essays from the bundle's causal LM (the module docstring's rule).

        LmWriter(CausalLM(folder), plan["writers"]["honest"]).write("Discuss the significance of Ned Stark.")
    """

    def __init__(self, lm, settings: dict, sampling):
        self.lm, self.settings = lm, dict(settings)
        self.sampler = sampling.Sampler(repetition_penalty=float(settings["repetition_penalty"]))
        self.min_new = int(settings["min_new_tokens"])

    def context(self, topic: str) -> str:
        """The topic's prompt as a chat turn, up to the assistant's opening (as text)."""
        message = self.settings["prompt"].replace("{topic}", topic)
        return self.lm.chat_prefix(self.settings["system"]) + message + self.lm.chat_turn()["suffix"]

    def pick(self, logits, seen, answer) -> int:
        if len(answer) < self.min_new:
            logits = logits.copy()
            logits[sorted(self.lm.eos_ids)] = -float("inf")
        return self.sampler(logits, seen, answer)

    def write(self, topic: str) -> str:
        ids = self.lm.generate_ids(self.lm.encode(self.context(topic)), int(self.settings["max_new_tokens"]), pick=self.pick)
        text = self.lm.decode([t for t in ids if t not in self.lm.eos_ids]).strip()
        return clip_words(re.sub(r"\s+", " ", text), int(self.settings["max_words"])) or text

    def mean_logprob(self, topic: str, essay: str) -> float:
        """The model's mean log-probability of `essay`'s tokens after the topic's prompt (the smoke test's number)."""
        total, per_token = self.lm.score(self.context(topic), essay)
        return total / len(per_token)


class EssayWriter:
    output = "essay"

    def __init__(self, plan: dict, folder: Path, threads: int = 1):
        self.plan = plan
        self.seed, self.filler_words = int(plan["seed"]), int(plan["filler_words"])
        self.templates = dict(plan["templates"])
        self.mix = Counter(plan["attack_per_topic"])
        settings = dict(plan.get("writers") or {})
        missing = sorted(set(self.mix) - set(self.templates) - set(settings))
        if missing or not self.mix:
            raise ValueError(f"plan: no template or writer for {missing}" if missing else "plan: no attacks")
        text = (Path(folder) / plan["vocabulary"]).read_text(encoding="utf-8")
        self.vocabulary = [w for w in text.split("\n") if w]
        self.writers: dict[str, LmWriter] = {}
        if settings:   # loaded now, so a bundle's timing and peak memory include the model
            causal_lm, sampling = _lm_modules()
            lm = causal_lm.CausalLM(Path(folder), threads)
            self.writers = {name: LmWriter(lm, s, sampling) for name, s in settings.items()}

    @classmethod
    def from_bundle(cls, folder: Path, threads: int = 1) -> "EssayWriter":
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        return cls(config["plan"], folder, threads)

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
        if attack in self.writers:
            return self.writers[attack].write(topic)
        words = self.filler(topic) if self.filler_words else ""
        head = f"{topic.strip()} {words[:1].upper()}{words[1:]}." if words else topic.strip()
        return f"{head} {self.templates[attack].replace('{topic}', topic)}".strip()

    def self_check(self, rows: list[dict], tolerance: float) -> dict:
        """The smoke test of a bundle whose smoke rows carry their attack (a plan with writers): the
        deal of the host's topics is the plan's; a template row's essay is the host's byte for byte;
        a written row gets an essay from this machine's model, which must give the host's essay its
        mean log-probability ("logprob") within `tolerance` nats."""
        names = list(self.plan["attack_per_topic"])
        wrong = [] if self.deal(len(names)) == names else [("the plan's deal of its topics", "another deal")]
        diffs, same = [], 0
        for row in rows:
            topic, attack, host = row["text"], row["attack"], row["output"]
            if attack in self.writers:
                essay = self.writers[attack].write(topic)
                same += essay == host
                diffs.append(abs(self.writers[attack].mean_logprob(topic, host) - float(row["logprob"])))
                if not essay.strip():
                    wrong.append((host, essay))
            elif attack not in self.templates or self.essay(attack, topic) != host:
                wrong.append((host, self.essay(attack, topic) if attack in self.templates else f"no attack {attack!r}"))
        report = {"inputs": len(rows), "mismatches": len(wrong)}
        if wrong:
            report["first_mismatch"] = {"host": wrong[0][0][:200], "here": wrong[0][1][:200]}
        if diffs:
            report.update(written=len(diffs), written_identical=same, max_logprob_diff=max(diffs), tolerance=tolerance)
        report["ok"] = bool(rows) and not wrong and all(d <= tolerance for d in diffs)
        return report

    def write(self, topics: list[str]) -> list[dict]:
        """{"essay", "attack"} for each topic, in order."""
        if any(not isinstance(t, str) or not t.strip() for t in topics):
            raise ValueError("every topic must be a non-empty text")
        return [{"essay": self.essay(a, t), "attack": a} for a, t in zip(self.deal(len(topics)), topics)]
