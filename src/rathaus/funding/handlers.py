"""Outbox handlers and periodic jobs of the funding app: registered by importing the parts'
modules (``duties_mail``: reminders of reporting duties). ``FundingConfig.ready`` imports this
module."""

from rathaus.funding import duties_mail  # noqa: F401 - registers its handler and daily job
