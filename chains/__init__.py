"""Answering: conversation memory, follow-up rewriting, and the answerers (extractive offline; LLM later)."""
