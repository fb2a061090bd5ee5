"""Ship a causal LM to the device (a later issue fills this): a small generator or scorer distilled
or fine-tuned from a competition's solution, exported with its KV cache for onnxruntime-genai,
quantized int8 or int4 (edge/quantize.py), checked for parity on generated tokens or scores, and
bundled with a generation runtime next to edge/runtime/detect.py.

It plugs into the shared flow of edge/pipeline.py the way edge/classifier/steps.py does: train,
export (with a parity report), runners for the comparison table, and a bundle; the competition's
edge spec returns the typed set that names this kind, as a DistillSet names the classifier.
"""
