"""Model improvement: adapting the offline embedder (embedder.py) and OpenAI chat fine-tuning."""
