"""Outbox handlers and periodic jobs of the economy app: registered by importing the parts'
modules (``events_mail``: confirmations, move-ups; ``board_mail``: replies, the digest)."""

from rathaus.economy import board_mail, events_mail  # noqa: F401 - they register handlers
