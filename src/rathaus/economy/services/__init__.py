"""Every write of the economy app, one module per part: ``directory`` (organisations,
members, claims, moderation, the taxonomy), ``relations``, ``events`` (events,
registrations, the waiting list, check-in, outcome), ``rooms`` (bookings) and ``board``
(offers and needs, messages, the digest)."""
