"""Evaluation: compare a synthetic warehouse with a real source or a profile."""
