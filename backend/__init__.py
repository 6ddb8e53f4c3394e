"""Text-classifier training and serving backend."""
