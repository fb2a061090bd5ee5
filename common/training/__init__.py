"""Trainers shared by the competitions and edge/, with one argument vocabulary.

    config.py           TrainConfig (model, epochs, batch_size, learning_rate, max_length, seed,
                        threads, show_progress_bar, lora...) and the seeded, deterministic session
    text_classifier.py  sequence classifier over texts or text pairs, hard or soft labels, LoRA
    multiple_choice.py  multiple-choice model over (context, option) pairs, LoRA
    causal_lm.py        causal LM fine-tuned to write a completion after a prompt (loss on the
                        completion only), LoRA; generate with common.llm.generation.generate_batch
    loop.py             the seeded AdamW loop the text-classifier and causal-LM trainers share
    inputs.py           texts or text pairs, checked and tokenized alike everywhere
    lora.py             LoRA adapters from a TrainConfig (peft)
    trees.py            LightGBM classifier and regressor in the deterministic, single-threaded mode
"""
