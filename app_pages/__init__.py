"""Streamlit pages (thin: all logic lives in services/)."""
