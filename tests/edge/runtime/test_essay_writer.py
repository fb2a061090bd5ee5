"""The device's essay writer (edge/runtime/essays.py) against the host's attacks.write_essay and
search.assign: the same filler, the same template, the same deal; and detect.py's command line
for a writer bundle (topics as lines or CSV id,topic; Kaggle's id,essay CSV out)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections import Counter

import pytest
from fake_specs import TOPICS, essay_plan

from competitions.adversarial_judge.attacks import ATTACKS, filler_vocabulary, write_essay
from edge.runtime.essays import EssayWriter
from edge.writer.steps import WriterSteps


@pytest.fixture(scope="module")
def vocabulary():
    return filler_vocabulary()


@pytest.fixture(scope="module")
def essay_bundle(tmp_path_factory):
    from fake_specs import essay_port

    return WriterSteps(essay_port(None)).bundle(tmp_path_factory.mktemp("essays") / "bundle",
                                                {"competition": "adversarial-judge"}).path


def writer(plan: dict, vocabulary: list[str], tmp_path) -> EssayWriter:
    (tmp_path / "vocabulary.txt").write_text("\n".join(vocabulary) + "\n", encoding="utf-8")
    return EssayWriter({**plan, "vocabulary": "vocabulary.txt"}, tmp_path)


@pytest.mark.parametrize("attack", ["inject_9", "cond_909", "critique_grammar_broken+style_vivid", "random_words"])
@pytest.mark.parametrize("filler_words", [0, 12])
def test_an_essay_is_write_essay_byte_for_byte(attack, filler_words, vocabulary, tmp_path):
    plan = {"seed": 3, "filler_words": filler_words, "attack_per_topic": [attack],
            "templates": {attack: ATTACKS[attack].body("{topic}")}}
    device = writer(plan, vocabulary, tmp_path)
    for topic in (*TOPICS, "  padded topic  ", "Ünïcode: the café's menu"):
        assert device.essay(attack, topic) == write_essay(ATTACKS[attack], topic, filler_words, 3, vocabulary)


def test_the_host_topics_get_the_host_attacks_and_essays(vocabulary, tmp_path):
    plan, essays = essay_plan()
    written = writer(plan, vocabulary, tmp_path).write(list(TOPICS))
    assert [w["attack"] for w in written] == plan["attack_per_topic"]
    assert [w["essay"] for w in written] == essays


def test_new_topics_get_the_mix_scaled_and_dealt_by_the_seed(vocabulary, tmp_path):
    plan, _ = essay_plan()                        # 3 vivid, 2 inject_9, 1 cond_909 over 6 topics
    device = writer(plan, vocabulary, tmp_path)
    assert device.counts(1) == {"critique_style_vivid": 1, "inject_9": 0, "cond_909": 0}
    assert device.counts(12) == {"critique_style_vivid": 6, "inject_9": 4, "cond_909": 2}
    assert sum(device.counts(5).values()) == 5 and device.counts(5)["critique_style_vivid"] >= 2
    assert Counter(device.deal(12)) == Counter(device.counts(12)) and device.deal(12) == device.deal(12)
    topics = [f"new topic {i}" for i in range(12)]
    assert [w["attack"] for w in device.write(topics)] == device.deal(12)


def test_the_cli_reads_lines_or_csv_and_prints_the_submission(essay_bundle):
    plan, essays = essay_plan()
    rows = "".join(f'{10 + i},"{t.replace(chr(34), chr(34) * 2)}"\n' for i, t in enumerate(TOPICS))
    done = subprocess.run([sys.executable, "-I", "detect.py", "--format", "csv"], input="id,topic\n" + rows,
                          cwd=essay_bundle, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = list(csv.DictReader(io.StringIO(done.stdout)))
    assert [r["id"] for r in out] == [str(10 + i) for i in range(len(TOPICS))]
    assert [r["essay"] for r in out] == essays
    done = subprocess.run([sys.executable, "-I", "detect.py", "--json"], input="Cats at night\n", cwd=essay_bundle,
                          capture_output=True, text=True, timeout=60)
    row = json.loads(done.stdout)
    assert row["id"] == 0 and row["attack"] == "critique_style_vivid" and row["essay"].startswith("Cats at night ")
    done = subprocess.run([sys.executable, "-I", "detect.py"], input="a topic\n\nanother\n", cwd=essay_bundle,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("error: line 2 is blank")
