"""The standalone reference trainer (train_gpt.py). Never imported by golf: it is run, or copied."""
