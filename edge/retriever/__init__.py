"""Ship an encoder plus an index to the device (a later issue fills this): a small sentence encoder
distilled from the solution's retriever, exported to ONNX and quantized like the classifier, with
the passage vectors (or a faiss index) of the corpus it searches, checked for recall against the
teacher's retrieval, and bundled with a search runtime next to edge/runtime/detect.py.

It plugs into the shared flow of edge/pipeline.py the way edge/classifier/steps.py does: train,
export (with a parity report), runners for the comparison table, and a bundle.
"""
