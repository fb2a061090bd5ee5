"""The on-device program, copied into bundles as is; imports nothing from this repo.

    detect.py      every bundle's command line (input, self-test, bench), with beside it
    records.py     reading the input: config.json, lines / JSON lines / CSV, one-line errors
    classifier.py  an encoder classifier's session, probabilities and output lines
    lm_features.py, essays.py, prompts.py, science.py (+ retrieval.py, choices.py)   one file per other kind
    generate.py    the causal LM's command line, with beside it
    causal_lm.py   the causal LM (KV cache, greedy decode, scoring, teacher-forced NLL)
    lm_chat.py     chat turns and a conversation kept in the KV cache
    lm_measure.py  speed, peak memory and read bandwidth (the device study's measurements)
    lm_sampling.py a next token drawn (temperature, top-k, top-p, repetition penalty) instead of the argmax

On the host they are a package (relative imports); in a bundle folder, run as `python3 -I
detect.py`, a file loads its siblings by path (detect.py load_sibling, science.py _sibling; generate.py, a
script only, puts its folder on sys.path).
"""
