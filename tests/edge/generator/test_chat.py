"""A model folder's chat turn (edge/generator/chat.py): rendered from the model's own template,
written beside every export; `kllm chat` here, and the chat staged and run on the emulated Pi and
over ssh."""
from __future__ import annotations

import json
import shutil
import sys

from tiny_llm import PROMPT

from cli.main import main
from edge.generator.chat import CHAT_FILE, chat_on_device, chat_turn, write_chat_file
from edge.runtime.causal_lm import CausalLM
from edge.runtime.lm_sampling import Sampler


def test_the_turn_wraps_a_message_as_the_models_template_does(tiny_llm):
    from transformers import AutoTokenizer

    turn = chat_turn(tiny_llm)
    expected = AutoTokenizer.from_pretrained(str(tiny_llm)).apply_chat_template(
        [{"role": "user", "content": "Name a planet."}], add_generation_prompt=True, tokenize=False)
    assert turn["prefix"] + "Name a planet." + turn["suffix"] == expected
    assert turn["suffix"].endswith("<|im_start|>assistant\n")     # SmolLM2's template opens the answer
    talk = AutoTokenizer.from_pretrained(str(tiny_llm)).apply_chat_template(
        [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": "Hello."},
         {"role": "user", "content": "Name a planet."}], add_generation_prompt=True, tokenize=False)
    assert turn["prefix"] + "Hi." + turn["suffix"] + "Hello." + turn["between"] + "Name a planet." + turn["suffix"] == talk


def test_a_system_message_of_ones_own_goes_where_the_template_puts_it(tiny_llm):
    from transformers import AutoTokenizer

    system = chat_turn(tiny_llm)["system"]
    expected = AutoTokenizer.from_pretrained(str(tiny_llm)).apply_chat_template(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a planet."}],
        add_generation_prompt=True, tokenize=False)
    assert system["before"] + "Be brief." + system["after"] + "Name a planet." + chat_turn(tiny_llm)["suffix"] == expected


def test_a_template_that_refuses_a_system_message_gets_no_place_for_one(tiny_llm, tmp_path):
    folder = tmp_path / "no-system"
    shutil.copytree(tiny_llm, folder)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    (folder / "chat_template.jinja").write_text(
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('no system role') }}{% endif %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    turn = chat_turn(folder)
    assert turn["prefix"] == "<|im_start|>user\n" and "between" in turn and "system" not in turn


def test_every_export_carries_its_chat_file(tiny_exports):
    for folder in tiny_exports.values():
        assert json.loads((folder / CHAT_FILE).read_text()) == chat_turn(folder)


def test_a_model_without_a_template_gets_no_chat_file(tiny_llm, tmp_path):
    folder = tmp_path / "plain"
    shutil.copytree(tiny_llm, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    assert chat_turn(folder) is None and write_chat_file(folder) is None
    assert not (folder / CHAT_FILE).exists()


def test_the_chat_file_is_written_once(tiny_exports, tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(tiny_exports["fp32"], folder)
    (folder / CHAT_FILE).unlink()
    path = write_chat_file(folder)
    stamp = path.stat().st_mtime_ns
    assert write_chat_file(folder) == path and path.stat().st_mtime_ns == stamp
    path.write_text(json.dumps({"prefix": "old", "suffix": "format"}))     # an earlier format is written again
    assert json.loads(write_chat_file(folder).read_text()) == chat_turn(folder)
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []   # no temp file left


def _expected_answer(folder, message: str, tokens: int) -> str:
    lm = CausalLM(folder)
    return lm.decode(lm.generate_ids(lm.chat_ids(message), tokens))


def test_kllm_chat_answers_with_a_variant_here(tiny_llm, tiny_exports, generator_cache, monkeypatch, capfd):
    monkeypatch.setenv("KLLM_CACHE", str(generator_cache))          # the tiny exports' cache: nothing rebuilt
    code = main(["chat", "--model", str(tiny_llm), "--variant", "int4", "--prompt", PROMPT,
                 "--max-new-tokens", "5", "--threads", "1", "--json"])
    assert code == 0
    lm = CausalLM(tiny_exports["int4"])
    assert json.loads(capfd.readouterr().out)["tokens"] == lm.generate_ids(lm.chat_ids(PROMPT), 5)
    assert main(["chat", "--model", str(tiny_llm), "--variant", "int4", "--prompt", PROMPT, "--system", "Be brief.",
                 "--max-new-tokens", "5", "--threads", "1", "--json"]) == 0
    assert json.loads(capfd.readouterr().out)["tokens"] == lm.generate_ids(lm.chat_ids(PROMPT, system="Be brief."), 5)
    drawn = ["--temperature", "1.2", "--top-p", "0.9", "--repetition-penalty", "1.3", "--seed", "2", "--no-repeat-ngram", "2"]
    assert main(["chat", "--model", str(tiny_llm), "--variant", "int4", "--prompt", PROMPT, *drawn,
                 "--max-new-tokens", "5", "--threads", "1", "--json", "--stats"]) == 0
    pick = Sampler(1.2, 0, 0.9, 1.3, 2, no_repeat_ngram=2, spare=frozenset(lm.eos_ids))
    captured = capfd.readouterr()
    assert json.loads(captured.out)["tokens"] == lm.generate_ids(lm.chat_ids(PROMPT), 5, pick=pick)
    assert f"tokens: prefill {len(lm.chat_ids(PROMPT))} tokens in " in captured.err.strip().splitlines()[-1]


def test_chat_on_the_emulated_pi_answers_as_on_x86(pi_root, tiny_exports, tmp_path, capfd):
    # fp32: the tiny model's symmetric int4 takes another kernel on Arm (test_arm_int4_arithmetic.py)
    from edge.deploy.emulated import EmulatedPi

    root = str(tmp_path / "device")
    args = ["--prompt", PROMPT, "--max-new-tokens", "6", "--json"]
    assert chat_on_device(EmulatedPi(pi_root), root, tiny_exports["fp32"], args, log=lambda *_: None) == 0
    answer = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert answer["text"] == _expected_answer(tiny_exports["fp32"], PROMPT, 6)
    copied = sorted(p.name for p in (tmp_path / "device" / "chat").iterdir())
    assert copied[0].startswith(tiny_exports["fp32"].name + "-") and copied[1].startswith("runtime-")
    assert (tmp_path / "device" / "chat" / copied[0] / CHAT_FILE).exists()


def test_chat_over_ssh_on_a_real_openssh_server(local_sshd, tiny_exports, tmp_path, capfd):
    from edge.deploy.ssh import SshDevice, parse_target

    options = local_sshd.options(python=sys.executable, setup_env=False)   # the device is this machine
    root = str(tmp_path / "pi")
    with SshDevice(parse_target(local_sshd.target), options, root) as device:
        code = chat_on_device(device.check_reachable(), root, tiny_exports["int4"],
                              ["--prompt", PROMPT, "--max-new-tokens", "5"], log=lambda *_: None)
    assert code == 0
    assert capfd.readouterr().out.strip().splitlines()[-1] == _expected_answer(tiny_exports["int4"], PROMPT, 5).strip()
