"""Settings of the science-exam solution, each readable from `--set key=value`.

    cfg = SolutionConfig.from_context(ctx)      # defaults below, overridden by ctx.options
    make submit COMP=science-exam ARGS="--set lm=/models/llama-7b --set encoder=BAAI/bge-small-en --set corpus=/data/wiki"

The variants whose CV scores are reported are declared in VARIANTS.
"""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError
from common.options import file_option, model_option


@dataclass(frozen=True)
class SolutionConfig:
    """Options (`--set NAME=VALUE`):

    encoder: sentence encoder for dense retrieval (common.models name, folder or HF id) [minilm]
    lm: causal LM that scores the options (common.models name, folder or HF id) [smollm2]
    mc_model: encoder fine-tuned as the multiple-choice model [minilm]
    corpus: a .parquet/.txt file or a folder of them ('' = the sample's corpus.parquet, or
        corpus.parquet beside the real Kaggle files when it is there) ['']
    retrieval: hybrid | dense | sparse [hybrid]
    index: faiss index: flat | ivf | ivfpq | auto (flat below 200k passages) [auto]
    top_k: passages given to the answering models [3]
    examples: solved train questions retrieved into lm_rag's context beside the passages, never
        from the question's own fold (0 = passages only) [2]
    memory: extra solved questions for that retrieval, a file in train.csv's schema ['']
    controls: also score lm_random_examples, lm_rag's prompt with `examples` solved questions
        drawn at random and no passages: how much of lm_rag's gain is the worked-example format
        rather than retrieval (~2 min more on 2 cores, hence off by default) [false]
    candidates: passages each retriever proposes before rank fusion [20]
    dense_scope: what the encoder embeds: corpus | candidates (TF-IDF's top `pool` per question)
        | auto (corpus up to 20k passages, else candidates; a GPU run can force corpus) [auto]
    pool: TF-IDF passages per question handed to the encoder when dense_scope is candidates
        (sample: 8 embeds 2,694 passages in ~41 s, 12 embeds 3,795 in ~57 s) [8]
    chunk_words: words per passage when chunking the corpus [90]
    context_words: cap on the words of retrieved passages given to the LM [30]
    lm_norm: option score = "mean" token log-likelihood or "sum" [mean]
    mc_epochs / mc_max_length / mc_batch_size / mc_lr: fine-tuning schedule [2 / 48 / 8 / 1e-3]
    mc_trainable_layers: top encoder layers trained (-1 = all) [2]
    mc_context_words: words of the retrieved passages the multiple-choice model reads; on 2 cores
        a short one fits beside question and option (3-fold CV on the sample, pool 12: 8 words
        at 48 tokens 0.457 in 153 s, 16 at 64 tokens 0.452 in ~230 s, none 0.485 but then the model
        reads no retrieved context; 1 epoch instead of 2: 0.427) [8]
    mc_lora: fine-tune with LoRA adapters (peft) instead of all weights [false]
    ensemble_weight: weight of lm_rag in the rank average (finetuned_mc gets the rest); below 0:
        picked on a grid on the other folds (on the 400-question sample that choice was noise:
        per-fold weights 0.0/0.5/0.5 and 0.437 MAP@3, against 0.461 for the plain 0.5) [0.5]
    submit: the variant whose test answers are written ('' = the best CV), e.g. to score each
        variant on the sample's hidden test labels ['']
    fast_train: train questions a `--fast` run keeps, the same number from each fold, drawn with
        the run's seed (0 = all); `--fast` also skips the lm_no_retrieval baseline unless `submit`
        names it: a quick check from an empty cache, not a score to compare with full runs [160]
    """

    encoder: str = model_option("encoder", "minilm")
    lm: str = model_option("causal_lm", "smollm2")
    mc_model: str = model_option("encoder", "minilm")
    corpus: str = file_option(folder_too=True)
    retrieval: str = "hybrid"
    index: str = "auto"
    top_k: int = 3
    examples: int = 2
    memory: str = file_option()
    controls: bool = False
    candidates: int = 20
    dense_scope: str = "auto"
    pool: int = 8
    chunk_words: int = 90
    context_words: int = 30
    lm_norm: str = "mean"
    mc_epochs: int = 2
    mc_max_length: int = 48
    mc_batch_size: int = 8
    mc_lr: float = 1e-3
    mc_trainable_layers: int = 2
    mc_context_words: int = 8
    mc_lora: bool = False
    ensemble_weight: float = 0.5
    submit: str = ""
    fast_train: int = 160

    @classmethod
    def from_context(cls, ctx) -> "SolutionConfig":
        """Defaults, then `--set` options (an unknown key or a bad value is refused). Folds:
        `--folds N`, else 3 (the competition's CvSpec)."""
        return ctx.config(cls)

    def __post_init__(self):
        self.validate()      # a bad value is refused when the options are read, before the data is

    def validate(self) -> None:
        from competitions.science_exam.retrieval_step import retrieval_config

        retrieval_config(self)          # retrieval, dense_scope and index are the retriever's to check
        if self.lm_norm not in ("mean", "sum"):
            raise UserError(f"lm_norm must be mean or sum, got {self.lm_norm!r}")
        if self.ensemble_weight > 1:
            raise UserError(f"ensemble_weight must be at most 1 (below 0: tuned), got {self.ensemble_weight}")
        if self.examples < 0:
            raise UserError(f"examples must be 0 or more, got {self.examples}")
        if self.fast_train < 0:
            raise UserError(f"fast_train must be 0 (all) or more, got {self.fast_train}")
        if self.mc_context_words < 0:
            raise UserError(f"mc_context_words must be 0 or more, got {self.mc_context_words}")
        for name in ("top_k", "candidates", "pool", "chunk_words", "context_words", "mc_epochs", "mc_max_length", "mc_batch_size"):
            if getattr(self, name) < 1:
                raise UserError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.mc_lr > 0:
            raise UserError(f"mc_lr must be above 0, got {self.mc_lr}")
        if self.mc_trainable_layers < -1:
            raise UserError(f"mc_trainable_layers must be -1 (all) or 0 or more, got {self.mc_trainable_layers}")
        submittable = [v.name for v in VARIANTS if not v.control]
        if self.submit and self.submit not in submittable:
            raise UserError(f"submit: no variant {self.submit!r}; variants: {', '.join(submittable)}")


@dataclass(frozen=True)
class Variant:
    """One reported CV score. kind: "lm" (zero-shot option log-likelihood), "mc" (fine-tuned
    multiple-choice model) or "ensemble" (rank average of `members`, SolutionConfig.ensemble_weight).
    retrieval: whether the model reads retrieved passages. examples: solved questions in the LM's
    prompt: "retrieved", "random" (the control) or "none". control: reported, never submitted,
    and run only with `--set controls=true`."""

    name: str
    kind: str
    retrieval: bool = True
    examples: str = "none"
    members: tuple[str, ...] = ()
    control: bool = False


VARIANTS = (
    Variant("lm_no_retrieval", "lm", retrieval=False),
    Variant("lm_random_examples", "lm", retrieval=False, examples="random", control=True),
    Variant("lm_rag", "lm", retrieval=True, examples="retrieved"),
    Variant("finetuned_mc", "mc", retrieval=True),
    Variant("ensemble", "ensemble", members=("lm_rag", "finetuned_mc")),
)
