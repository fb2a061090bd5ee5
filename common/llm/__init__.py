"""Local LLM work on top of the model zoo (`common.models`).

    from common.llm.generation import GenerationConfig, generate     # batched, seeded, cached
    from common.llm.scoring import token_logprobs, perplexity, score_continuations
    from common.llm.judges import DEFAULT_PANEL, judge_scores, english_confidence, mean_pairwise_similarity
    from common.llm.bench import bench_llm                           # speed table for `kllm bench`

Every call that runs a model caches its rows on disk (`common.llm.cache`) and resumes after a crash.
"""
