"""The runtime's chat (edge/runtime/lm_chat.py, run by generate.py --chat) on the tiny Llama's
exports: the prompt in the model's chat turn, one turn a stdin line, answers streamed, a
conversation kept in the KV cache, one line on bad input."""
from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from tiny_llm import PROMPT

import pytest

from edge.runtime.causal_lm import CHAT_FILE, CausalLM, InputError
from edge.runtime.lm_chat import Conversation, TextStream, chat_lines, stats_line
from edge.runtime.lm_sampling import Sampler

RUNTIME = Path(__file__).resolve().parents[3] / "edge" / "runtime" / "generate.py"


def _run(*args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RUNTIME), *args], input=stdin, capture_output=True, text=True,
                          timeout=300)


def test_chat_ids_put_the_message_inside_the_turn(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    turn = json.loads((tiny_exports["fp32"] / CHAT_FILE).read_text())
    assert lm.chat_ids("Name a planet.") == lm.encode(turn["prefix"] + "Name a planet." + turn["suffix"])


def test_a_system_message_of_ones_own_replaces_the_templates(tiny_exports, tmp_path):
    lm = CausalLM(tiny_exports["fp32"])
    turn = json.loads((tiny_exports["fp32"] / CHAT_FILE).read_text())
    mine = turn["system"]["before"] + "Be brief." + turn["system"]["after"]
    assert lm.chat_ids("Name a planet.", system="Be brief.") == lm.encode(mine + "Name a planet." + turn["suffix"])
    assert mine != turn["prefix"]                                          # not SmolLM2's default system message
    done = _run("--model", str(tiny_exports["fp32"]), "--chat", "--system", "Be brief.", "--prompt", "Name a planet.",
                "--max-new-tokens", "4", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tokens"] == lm.generate_ids(lm.chat_ids("Name a planet.", system="Be brief."), 4)
    chat = Conversation(lm, max_new_tokens=4, system="Be brief.")
    assert chat.ask("Name a planet.") == lm.generate_ids(lm.chat_ids("Name a planet.", system="Be brief."), 4)
    folder = tmp_path / "old-chat-file"
    shutil.copytree(tiny_exports["fp32"], folder)
    turn.pop("system")
    (folder / CHAT_FILE).write_text(json.dumps(turn))
    done = _run("--model", str(folder), "--chat", "--system", "Be brief.", stdin="Hi\n")
    assert done.returncode == 2 and "has no system message" in done.stderr and done.stdout == ""
    done = _run("--model", str(folder), "--system", "Be brief.", "--prompt", "Hi")
    assert done.returncode == 2 and done.stderr.strip() == "error: --system goes with --chat"


def test_a_chat_prompt_is_answered_in_its_turn(tiny_exports):
    lm = CausalLM(tiny_exports["int4"])
    done = _run("--model", str(tiny_exports["int4"]), "--chat", "--prompt", PROMPT, "--max-new-tokens", "6", "--json")
    assert done.returncode == 0, done.stderr
    tokens = json.loads(done.stdout)["tokens"]
    assert tokens == lm.generate_ids(lm.chat_ids(PROMPT), 6)
    assert tokens != lm.generate_ids(lm.encode(PROMPT), 6)       # the plain prompt continues otherwise


def test_stdin_lines_are_answered_one_turn_each_and_streamed(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    out = io.StringIO()
    assert chat_lines(lm, io.StringIO(f"{PROMPT}\n\n   \nName a planet.\n"), out, 5) == (2, 0)   # blank lines skipped
    expected = [lm.decode(lm.generate_ids(lm.chat_ids(m), 5)) for m in (PROMPT, "Name a planet.")]
    assert out.getvalue() == "".join(f"{text}\n" for text in expected)
    as_json = io.StringIO()
    chat_lines(lm, io.StringIO("Name a planet.\n"), as_json, 5, as_json=True)
    assert json.loads(as_json.getvalue())["text"] == expected[1]


def test_the_stream_holds_back_a_half_written_character():
    class Halves:   # decodes one token to half of "é", two to all of it
        def decode(self, ids):
            return "ab\ufffd" if len(ids) == 1 else "abé"

    out = io.StringIO()
    stream = TextStream(Halves(), out)
    stream([1])
    assert out.getvalue() == ""
    stream([1, 2])
    assert out.getvalue() == "abé"


def test_chat_on_stdin_from_the_command_line(tiny_exports):
    done = _run("--model", str(tiny_exports["fp32"]), "--chat", "--max-new-tokens", "4", stdin=f"{PROMPT}\nHi\n")
    assert done.returncode == 0 and len(done.stdout.splitlines()) == 2 and done.stderr == ""


def test_a_folder_without_its_chat_file_is_one_line_and_exit_2(tiny_exports, tmp_path):
    folder = tmp_path / "no-chat"
    shutil.copytree(tiny_exports["fp32"], folder)
    (folder / CHAT_FILE).unlink()
    done = _run("--model", str(folder), "--chat", "--prompt", PROMPT)
    assert done.returncode == 2 and done.stderr.startswith("error: no chat.json") and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    empty = _run("--model", str(tiny_exports["fp32"]), "--chat", "--prompt", "  ")
    assert empty.returncode == 2 and empty.stderr.strip() == "error: --prompt is blank: give some text"


def _fed_after(lm: CausalLM, prompt_ids: list[int], answer: list[int], message: str) -> list[int]:
    """What the next turn's prefill continues: the first turn, its answer as generated (an end of
    turn not fed: the next turn's opening starts with it), then the next question's turn."""
    turn = lm.chat_turn(conversation=True)
    kept = answer[:-1] if answer[-1] in lm.eos_ids else answer
    return prompt_ids + kept + lm.encode(turn["between"] + message + turn["suffix"])


def test_with_history_each_question_follows_the_turns_before_it(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    out = io.StringIO()
    chat_lines(lm, io.StringIO(f"{PROMPT}\nName a planet.\n"), out, 5, as_json=True, history=True)
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["tokens"] == lm.generate_ids(lm.chat_ids(PROMPT), 5)
    after = _fed_after(lm, lm.chat_ids(PROMPT), first["tokens"], "Name a planet.")
    assert second["tokens"] == lm.generate_ids(after, 5)
    # the same conversation as chat_ids renders it from the texts, when the answer re-encodes to itself
    if lm.encode(first["text"]) == first["tokens"]:
        assert after == lm.chat_ids("Name a planet.", [(PROMPT, first["text"])])


@pytest.mark.parametrize("share_buffer", [True, False])
def test_a_conversation_continues_its_cache_and_answers_as_a_full_prefill_would(tiny_exports, share_buffer):
    lm, reference = CausalLM(tiny_exports["int4"]), CausalLM(tiny_exports["int4"])
    lm.share_buffer = share_buffer     # both cache paths of _decoder: bound in place, and copied
    decoders = []
    make = lm._decoder
    lm._decoder = lambda capacity: decoders.append(capacity) or make(capacity)
    chat = Conversation(lm, max_new_tokens=4)
    questions = [PROMPT, "Name a planet.", "Why?", "And another?", "Thanks."]
    fed = lm.chat_ids(questions[0])
    for i, question in enumerate(questions):
        answer = chat.ask(question)
        assert answer == reference.generate_ids(fed, 4), question       # the whole conversation prefilled
        if i + 1 < len(questions):
            fed = _fed_after(lm, fed, answer, questions[i + 1])
    assert len(decoders) < len(questions)               # some turns continued the cache without a refill
    assert decoders == sorted(decoders) and decoders[1] >= 2 * decoders[0]
    with pytest.raises(InputError, match="empty message"):
        chat.ask("  ")


def test_a_drawn_conversation_repeats_with_its_seed_and_draws_as_a_full_prefill_would(tiny_exports):
    lm, reference = CausalLM(tiny_exports["fp32"]), CausalLM(tiny_exports["fp32"])
    settings = dict(temperature=1.0, top_p=0.95, repetition_penalty=1.3, seed=5, spare=frozenset(lm.eos_ids))
    chat, pick = Conversation(lm, max_new_tokens=6, pick=Sampler(**settings)), Sampler(**settings)
    questions = [PROMPT, "Name a planet.", "Why?"]
    fed, answers = lm.chat_ids(questions[0]), []
    for i, question in enumerate(questions):
        answers.append(chat.ask(question))
        assert answers[-1] == reference.generate_ids(fed, 6, pick=pick), question   # penalty over the whole conversation
        if i + 1 < len(questions):
            fed = _fed_after(lm, fed, answers[-1], questions[i + 1])
    greedy = Conversation(CausalLM(tiny_exports["fp32"]), max_new_tokens=6)
    assert answers != [greedy.ask(question) for question in questions]


STATS = re.compile(r"^\[(\d+) tokens: prefill (\d+) tokens in \d+ ms(, decode [\d.]+ tok/s)?\]$")


@pytest.mark.parametrize("history", [False, True])
def test_stats_give_each_answers_tokens_prefill_and_decode_rate(tiny_exports, history):
    lm, stats = CausalLM(tiny_exports["fp32"]), io.StringIO()
    out = io.StringIO()
    chat_lines(lm, io.StringIO(f"{PROMPT}\nName a planet.\n"), out, 5, as_json=True, history=history, stats=stats)
    answers = [json.loads(line) for line in out.getvalue().splitlines()]
    lines = [STATS.match(line) for line in stats.getvalue().splitlines()]
    assert len(lines) == 2 and all(lines)
    assert [int(m.group(1)) for m in lines] == [len(a["tokens"]) for a in answers]
    assert int(lines[0].group(2)) == len(lm.chat_ids(PROMPT))                  # the first turn prefills its prompt
    if not history:
        assert int(lines[1].group(2)) == len(lm.chat_ids("Name a planet."))
    assert stats_line([7], {"prefill_s": 0.01, "decode_s": 0.0, "prefill_tokens": 3}) == \
        "[1 tokens: prefill 3 tokens in 10 ms]"                                  # one token: no decode rate


def test_history_needs_a_conversation_turn_and_questions_on_stdin(tiny_exports, tmp_path):
    folder = tmp_path / "single-turn"
    shutil.copytree(tiny_exports["fp32"], folder)
    turn = json.loads((folder / CHAT_FILE).read_text())
    turn.pop("between")
    (folder / CHAT_FILE).write_text(json.dumps(turn))
    done = _run("--model", str(folder), "--chat", "--history", stdin="Hi\nAgain\n")
    assert done.returncode == 2 and "has no turn for a conversation" in done.stderr and done.stdout == ""
    done = _run("--model", str(tiny_exports["fp32"]), "--chat", "--history", "--prompt", "Hi")
    assert done.returncode == 2 and done.stderr.strip() == \
        "error: --history goes with --chat and questions on stdin (no --prompt)"


def test_a_conversation_that_would_pass_the_context_starts_again_from_the_latest_question(tiny_exports):
    lm, reference = CausalLM(tiny_exports["fp32"]), CausalLM(tiny_exports["fp32"])
    first = len(lm.chat_ids(PROMPT)) + 4
    lm.context_length = first + 4                    # room for the first turn, not for a second after it
    chat, timings = Conversation(lm, max_new_tokens=4), {}
    assert chat.ask(PROMPT, timings=timings) == reference.generate_ids(lm.chat_ids(PROMPT), 4)
    assert timings["history_dropped"] is False
    answer = chat.ask("Name a planet.", timings=timings)
    assert timings["history_dropped"] is True
    assert answer == reference.generate_ids(lm.chat_ids("Name a planet."), 4)   # as a first question
    with pytest.raises(InputError, match="passes the model's .*-token context"):
        chat.ask("a question far too long for the context " * 20)
    with pytest.raises(InputError, match="passes the model's .*-token context"):
        lm.generate_ids(lm.encode("word " * 200), 4)


def test_chat_lines_says_when_earlier_turns_were_dropped(tiny_exports):
    lm = CausalLM(tiny_exports["fp32"])
    lm.context_length = len(lm.chat_ids(PROMPT)) + 8
    out, stats = io.StringIO(), io.StringIO()
    chat_lines(lm, io.StringIO(f"{PROMPT}\n{PROMPT}\n"), out, 4, history=True, stats=stats)
    assert stats.getvalue().count("earlier turns dropped") == 1


def test_a_bad_line_is_refused_and_the_conversation_goes_on(tiny_exports):
    lm, reference = CausalLM(tiny_exports["fp32"]), CausalLM(tiny_exports["fp32"])
    lm.context_length = len(lm.chat_ids(PROMPT)) + 40
    bad_bytes = b"caf\xe9?".decode("utf-8", "surrogateescape")             # what stdin hands over
    lines = f"{PROMPT}\n{bad_bytes}\n{'word ' * 80}\nName a planet.\n"
    out, errors = io.StringIO(), io.StringIO()
    assert chat_lines(lm, io.StringIO(lines), out, 4, as_json=True, history=True, errors=errors) == (2, 2)
    first, last = (json.loads(line) for line in out.getvalue().splitlines())
    said = errors.getvalue().splitlines()
    assert said[0].startswith("error: line 2: the text is not UTF-8 text") and len(said) == 2
    assert said[0].endswith("at position 3)")                              # its place in the line, not the turn
    assert said[1].startswith("error: line 3: the prompt is") and "-token context" in said[1]
    # the refused lines left the conversation as it was: the last question follows the first turn
    assert last["tokens"] == reference.generate_ids(_fed_after(lm, lm.chat_ids(PROMPT), first["tokens"],
                                                                "Name a planet."), 4)
    assert last["history_dropped"] is False


def test_the_command_line_exits_2_when_a_line_or_the_system_message_is_refused(tiny_exports):
    argv = [sys.executable, str(RUNTIME), "--model", str(tiny_exports["fp32"]), "--chat", "--max-new-tokens", "2"]
    done = subprocess.run(argv, input=PROMPT.encode() + b"\ncaf\xe9?\n", capture_output=True, timeout=300)
    assert done.returncode == 2 and done.stdout.strip()                            # the good line was answered
    assert done.stderr.decode().splitlines() == ["error: line 2: the text is not UTF-8 text "
                                                 "(a byte that is no character at position 3)"]
    done = subprocess.run(argv + [b"--system=caf\xe9"], input=PROMPT.encode(), capture_output=True, timeout=300)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.decode().splitlines() == ["error: --system is not UTF-8 text (a byte that is no character "
                                                 "at position 3)"]


def test_the_command_line_is_one_line_for_an_interrupt_an_odd_prompt_or_a_broken_folder(tiny_exports, tmp_path):
    import signal

    proc = subprocess.Popen([sys.executable, str(RUNTIME), "--model", str(tiny_exports["fp32"]), "--chat",
                             "--max-new-tokens", "3"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdin.write(PROMPT + "\n")
    proc.stdin.flush()
    assert proc.stdout.readline()                     # answered: now it waits for the next line
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and err == "error: interrupted\n" and "Traceback" not in err
    done = _run("--model", str(tiny_exports["fp32"]), "--chat", "--prompt=-h", "--max-new-tokens", "3", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["prompt"] == "-h"
    broken = tmp_path / "broken"
    shutil.copytree(tiny_exports["fp32"], broken)
    (broken / "tokenizer.json").unlink()
    for model, said in ((broken, "lacks tokenizer.json"), (broken / "genai_config.json", "is a file")):
        done = _run("--model", str(model), "--prompt", PROMPT)
        assert done.returncode == 2 and said in done.stderr and len(done.stderr.splitlines()) == 1
    (broken / "genai_config.json").write_text("{}")
    done = _run("--model", str(broken), "--prompt", PROMPT)
    assert done.returncode == 2 and "is not an exported model's config" in done.stderr


@pytest.mark.parametrize("over", [0, 90000])            # the whole context (one token short of a prompt), and past it
def test_max_new_tokens_no_line_can_fit_is_refused_once_before_any_line(tiny_exports, over):
    tokens = CausalLM(tiny_exports["fp32"]).context_length + over
    argv = [sys.executable, str(RUNTIME), "--model", str(tiny_exports["fp32"]), "--chat", "--max-new-tokens", str(tokens)]
    done = subprocess.run(argv, input=b"one\ntwo\nthree\n", capture_output=True, timeout=300)
    assert done.returncode == 2 and not done.stdout
    (line,) = done.stderr.decode().splitlines()
    assert line.startswith(f"error: --max-new-tokens {tokens} leaves no room for a prompt")

