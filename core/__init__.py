"""Core of the assistant: settings, model providers and the knowledge service shared by every front end."""
