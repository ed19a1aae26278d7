"""Placeholder: filled in by the events part (e-mails of registrations)."""
