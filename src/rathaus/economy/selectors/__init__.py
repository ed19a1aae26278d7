"""Every read of the economy app, already scoped to the user, with one permission gate per
entity (``directory.organisation_get_for_user``, ``events.event_get_for_user``,
``board.post_get_for_user``, ...), one module per part as in ``services``."""
