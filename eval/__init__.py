"""Evaluation sets and metrics for retrieval (and, later, answers)."""
