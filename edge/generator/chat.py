"""A model folder's chat turn as two plain strings, so the device can chat without a template engine.

    from edge.generator.chat import chat_turn, write_chat_file
    chat_turn(folder)        # {"prefix": "<|im_start|>system\\n...<|im_start|>user\\n", "suffix": "<|im_end|>\\n...",
                             #  "between": "<|im_end|>\\n<|im_start|>user\\n"}
    write_chat_file(folder)  # folder/chat.json, read by edge/runtime/generate.py --chat
    chat_on_device(device, root, folder, ["--max-new-tokens", "128"])   # stage, then chat there (kllm chat)

The builder's folder keeps the model's Jinja chat template (chat_template.jinja or
tokenizer_config.json), which only transformers can render. Rendered here once, on the host, for
one user message (a sentinel), it splits into what goes before the user's text and what goes after
it (the assistant's opening). A conversation rendered the same way gives what goes between an
answer and the next user message ("between", for generate.py --chat --history), kept only when
the template renders a conversation as those pieces joined; one with a system message (a second
sentinel) gives the prefix around a system message of the user's own ("system": before, after;
generate.py --chat --system TEXT), kept only when the rest renders as without it. A model without
a chat template gets no chat.json.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from common.atomic import atomic_write_text

CHAT_FILE = "chat.json"
CHAT_FORMAT = 3   # bump when chat_turn writes other keys: an older chat.json is then written again
CHAT_DIR = "chat"  # <device root>/chat/: the runtime and each model folder chatted with
_SENTINEL = "\u0000kllm-user-message\u0000"
_ANSWER, _NEXT = "\u0000kllm-answer\u0000", "\u0000kllm-next-message\u0000"
_SYSTEM = "\u0000kllm-system-message\u0000"


def chat_turn(folder: Path) -> dict[str, str] | None:
    """{"prefix", "suffix"[, "between"]} of one user message with the generation prompt (and what
    goes between an answer and the next message), or None when the folder's tokenizer has no chat
    template."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    if not getattr(tokenizer, "chat_template", None):
        return None
    text = tokenizer.apply_chat_template([{"role": "user", "content": _SENTINEL}], add_generation_prompt=True,
                                         tokenize=False)
    if text.count(_SENTINEL) != 1:
        return None
    prefix, suffix = text.split(_SENTINEL)
    turn = {"format": CHAT_FORMAT, "prefix": prefix, "suffix": suffix}
    talk = tokenizer.apply_chat_template([{"role": "user", "content": _SENTINEL}, {"role": "assistant", "content": _ANSWER},
                                          {"role": "user", "content": _NEXT}], add_generation_prompt=True, tokenize=False)
    head = prefix + _SENTINEL + suffix + _ANSWER
    if talk.startswith(head) and talk.endswith(_NEXT + suffix) and talk.count(_NEXT) == 1:
        turn["between"] = talk[len(head):talk.index(_NEXT)]
    try:
        told = tokenizer.apply_chat_template([{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _SENTINEL}],
                                             add_generation_prompt=True, tokenize=False)
    except Exception:   # a template that refuses a system role (jinja2's TemplateError, or raise_exception)
        told = ""
    if told.count(_SYSTEM) == 1 and told.endswith(_SENTINEL + suffix) and told.index(_SYSTEM) < told.index(_SENTINEL):
        before, after = told[:-len(_SENTINEL + suffix)].split(_SYSTEM)
        turn["system"] = {"before": before, "after": after}
    return turn


def write_chat_file(folder: Path) -> Path | None:
    """folder/chat.json (written atomically) when the folder has a chat template and no chat.json of
    this CHAT_FORMAT yet."""
    folder = Path(folder)
    path = folder / CHAT_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("format") == CHAT_FORMAT:
            return path
    except (OSError, ValueError):
        pass
    turn = chat_turn(folder)
    if turn is None:
        return None
    atomic_write_text(path, json.dumps(turn, indent=1, ensure_ascii=False) + "\n")
    return path


def chat_on_device(device, root: str, folder: Path, runtime_args: list[str], log=print) -> int:
    """Copy edge/runtime/generate.py (with the files it loads and the device's requirements) and the
    model folder to <root>/chat/ on `device` (each once, checked with sha256sum -c), then run
    `generate.py --chat` there attached to this terminal. Returns the runtime's exit code."""
    from edge.deploy.flow import check_path
    from edge.deploy.staging import files_digest, stage_folder
    from edge.generator.device_study import RUNTIME, runtime_files
    from edge.generator.variants import CHAT_FILES

    base = check_path(f"{root.rstrip('/')}/{CHAT_DIR}", "device root")
    with tempfile.TemporaryDirectory() as tmp:
        files = runtime_files(Path(tmp))
        runtime = f"{base}/runtime-{files_digest(files)}"
        stage_folder(device, files, runtime, log)
    files = {f: folder / f for f in CHAT_FILES if (folder / f).exists()}
    model = f"{base}/{folder.name}-{files_digest({CHAT_FILE: files[CHAT_FILE]})[:8]}" if CHAT_FILE in files \
        else f"{base}/{folder.name}"                    # a rewritten chat.json is copied anew
    stage_folder(device, files, model, log)
    argv = device.python(runtime) + [f"{runtime}/{RUNTIME.name}", "--model", model, "--chat", *runtime_args]
    return device.attach(argv)
