"""Ship a retriever to the device: an encoder plus a compact index, and the answerer built on them
(science-exam: retrieval, then a causal LM's option scores, rank-averaged with a fine-tuned
multiple-choice encoder's).

    encoder.py   a sentence encoder (mean pooling + L2 norm in the graph) as int8 ONNX, parity-checked
    index.py     CompactIndex: the passages a hybrid retriever's search can return, TF-IDF + float16
                 vectors, and a solved-question memory
    choice.py    a fine-tuned multiple-choice encoder as an ONNX pair scorer (int8 where it keeps fp32's pick)
    steps.py     AnswererSteps: the port flow's bundle, device answers and bench (edge/pipeline.py)

The device program is edge/runtime/science.py.
"""
