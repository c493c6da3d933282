"""Prompt files (system, condense, answer), loaded by `chains.llm.load_prompt`."""
