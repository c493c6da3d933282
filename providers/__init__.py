"""Model providers chosen by configuration (embeddings, chat models) behind LangChain's interfaces."""
