"""Streamlit frontend: from a CSV to compared, trained models, through the backend API."""
