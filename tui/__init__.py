"""ft-tui: a keyboard-first terminal app for the whole fine-tuning loop of chat models."""

__version__ = "0.1.0"
