"""Dataset tools: convert sources to chat JSONL, split train/validation, fix mechanical problems.

Pure and synchronous. Every tool streams its input (bounded memory), reports progress through a
callback, writes its output atomically and explains bad input with a `ToolError`.
"""
