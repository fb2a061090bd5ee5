"""Trainers shared by the competitions and edge/, with one argument vocabulary.

    config.py           TrainConfig (model, epochs, batch_size, learning_rate, max_length, seed,
                        threads, show_progress_bar, lora...) and the seeded, deterministic session
    text_classifier.py  sequence classifier over texts or text pairs, hard or soft labels, LoRA
    multiple_choice.py  multiple-choice model over (context, option) pairs, LoRA
    inputs.py           texts or text pairs, checked and tokenized alike everywhere
    lora.py             LoRA adapters from a TrainConfig (peft)
"""
