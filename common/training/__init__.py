"""Training loops shared by the competitions (multiple choice, ...)."""
