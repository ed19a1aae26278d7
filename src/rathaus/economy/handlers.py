"""Outbox handlers and periodic jobs of the economy app: registered by importing the parts'
modules (``directory_mail``: invitations; ``events_mail``: confirmations, move-ups;
``board_mail``: replies, the digest)."""

from rathaus.economy import (  # noqa: F401 - they register handlers
    board_mail,
    directory_mail,
    events_mail,
)
