"""The bottom layer: settings, paths, shared types and text utilities; imports nothing of the project."""
