"""Outbox handlers of the innovation app: registered by importing the parts' modules
(``entries_mail``: the result of an entry in a phase; ``results_mail``: reminders of
overdue evaluations). ``InnovationConfig.ready`` imports
this module."""

from rathaus.innovation import (  # noqa: F401 - they register their handlers
    entries_mail,
    results_mail,
)
