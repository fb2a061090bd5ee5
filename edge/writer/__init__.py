"""The writer kinds: the host's solution is a plan the device runs as it is (no model to
distill), and the device writes text: essays for topics (adversarial-judge, "essay_writer",
edge/runtime/essays.py) or the rewrite prompt of a text pair (prompt-recovery, "prompt_writer",
edge/runtime/prompts.py).

    steps.py     the bundle (plan, assets, runtime, smoke outputs the device must match exactly),
                 the device's outputs on the held-out rows, and its latency and peak memory

The competition hands over a common.port_set.PortSet; edge/pipeline.py runs the port flow
(host -> bundle -> compare -> deploy). A plan part that needs writing by a language model would
bring the int4 generator (edge/generator, edge/runtime/generate.py) into its bundle; no plan
ported so far has one.
"""
