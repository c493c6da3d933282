"""Services every front end (Streamlit pages, CLI, tests) drives the same way: answering, knowledge, uploads,
sign-in, the conversation log and its analytics."""
