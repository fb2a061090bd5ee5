"""Ship a causal LM to the device: export with its KV cache, compress, measure, run.

- variants.py: the variants by name (fp32, int8, int4 at accuracy levels 4 and 1, int8 head,
  asymmetric, k_quant, blocks 16-128, the Q4_1 regrids, dynamic int8, SmoothQuant'd and QAT-trained);
- export.py: onnxruntime-genai's model builder, one cached folder per variant (int8 layers in an
  int4 body, pruned sources too);
- calibrate.py: on calibration text, each layer's int4 sensitivity and each block's influence;
- prune.py: structured block removal and Wanda sparsity, as derived safetensors folders;
- quality.py: teacher-forced perplexity and next-token agreement, parity with PyTorch;
- q41.py: int4 on the zoo's GGUF Q4_1 grid with exact block offsets (the int4 weights equal fp32's);
- qat.py: quantization-aware training on the int4 export's own grid, distilled from fp32 (int4-qat);
- study.py: every variant measured in one run (`make bench BENCH=quant`);
  study_table.py: its markdown table and speed-vs-perplexity chart;
- profile.py: where a decode token's time goes (kernels by operator, onnxruntime between them,
  the runtime's Python), from onnxruntime's profiler.

The device side is edge/runtime/generate.py (greedy generation, continuation scoring), which
imports only onnxruntime, tokenizers and numpy. A competition's edge port (a scorer or generator
distilled from its solution) plugs into edge/pipeline.py's flow the way edge/classifier/ does.
"""
