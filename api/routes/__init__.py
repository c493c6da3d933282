"""One module per resource: conversations (chat and feedback), search, health."""
