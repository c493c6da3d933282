"""Persistent Chroma knowledge store with a manifest that makes replacing a source atomic."""
