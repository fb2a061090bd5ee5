"""The Makefile's own lists stay true to the code: `make help` names every registered competition."""
from __future__ import annotations

import re

import competitions  # noqa: F401  (fills the registry)
from common.paths import repo_root
from common.registry import all_competitions


def test_make_help_names_every_registered_competition():
    makefile = (repo_root() / "Makefile").read_text()
    listed = re.search(r"^COMPS := (.+)$", makefile, re.M).group(1).split()
    assert sorted(listed) == sorted(c.slug for c in all_competitions())
    assert "@echo \"COMP is one of: $(COMPS)" in makefile


def test_make_clean_removes_the_repos_folders_and_names_the_places_it_keeps(tmp_path):
    import os
    import shutil
    import subprocess

    shutil.copy(repo_root() / "Makefile", tmp_path / "Makefile")
    for folder in ("cache", "submissions", "results", "build", "data", ".venv"):
        (tmp_path / folder).mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLLM_")}
    done = subprocess.run(["make", "-s", "clean"], cwd=tmp_path, capture_output=True, text=True,
                          env={**env, "KLLM_CACHE": str(elsewhere), "KLLM_SUBMISSIONS": "submissions"})
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv", "Makefile", "data", "elsewhere"]
    assert f"note: KLLM_CACHE={elsewhere} is kept" in done.stdout and "KLLM_RESULTS" not in done.stdout
    assert "KLLM_SUBMISSIONS" not in done.stdout                        # the repo's own folder: removed, not "kept"


def test_a_device_variable_given_empty_reaches_the_cli_and_exp_reaches_make_edge():
    import subprocess

    def dry(*args):
        done = subprocess.run(["make", "-n", "-s", "-o", ".venv/.installed", *args], cwd=repo_root(),
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert '--to "$TO"' in dry("edge-rollback", "COMP=prompt-recovery", "TO=")     # refused there, not a rollback
    assert "--to" not in dry("edge-rollback", "COMP=prompt-recovery")
    assert '"$INPUT"' in dry("edge-run", "COMP=prompt-recovery", "INPUT=")          # refused, not a wait on stdin
    assert '--exp "$EXP"' in dry("edge", "COMP=detect-ai-text", "EXP=tfidf_only")
    assert '--exp "$EXP"' in dry("edge", "COMP=detect-ai-text", "EXP=")            # refused there, not the default
    assert '--exp "$EXP"' in dry("submit", "COMP=detect-ai-text", "EXP=")
    assert "--exp" not in dry("edge", "COMP=detect-ai-text") + dry("submit")


def test_make_cache_prune_passes_days_and_args_to_the_cli(tmp_path):
    import os
    import subprocess
    import time

    old = tmp_path / "generator" / "old" / "model.onnx"
    old.parent.mkdir(parents=True)
    (tmp_path / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n")
    old.write_bytes(b"x")
    stamp = time.time() - 20 * 86_400
    os.utime(old, (stamp, stamp))

    def make(*args):
        done = subprocess.run(["make", "-s", "-o", ".venv/.installed", "cache-prune", *args], cwd=repo_root(),
                              capture_output=True, text=True, timeout=120, env={**os.environ, "KLLM_CACHE": str(tmp_path)})
        return done.returncode, done.stdout + done.stderr

    assert make("ARGS=--dry-run") == (0, f"nothing in {tmp_path} has gone unread for 30 days\n")   # the default
    code, out = make("DAYS=7", "ARGS=--dry-run")
    assert code == 0 and "would remove generator/old (1 B, last read 20 days ago)" in out
    code, out = make("DAYS=0")
    assert code != 0 and "--unused-days must be at least 1, got 0" in out
    assert old.exists()
