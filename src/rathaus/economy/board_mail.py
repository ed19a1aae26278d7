"""Placeholder: filled in by the board part (reply notices, the weekly digest)."""
