"""The workflow of a case: which status may follow which, in one place. ``cases.services
.case_transition`` is the only code that changes a case's status, and it asks this table."""

from __future__ import annotations

from rathaus.cases.constants import CaseStatus as S

TRANSITIONS: dict[str, frozenset[str]] = {
    S.RECEIVED: frozenset({S.IN_PROGRESS, S.FORWARDED, S.WITHDRAWN}),
    S.IN_PROGRESS: frozenset({S.QUERY, S.DECIDED, S.FORWARDED, S.WITHDRAWN}),
    S.QUERY: frozenset({S.IN_PROGRESS, S.WITHDRAWN}),
    S.DECIDED: frozenset({S.CLOSED}),
    # forwarded: waits in the inbox of the office it went to, which takes it up or sends it on
    S.FORWARDED: frozenset({S.IN_PROGRESS, S.FORWARDED, S.WITHDRAWN}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

OPEN = frozenset(
    {S.RECEIVED, S.IN_PROGRESS, S.QUERY, S.FORWARDED}
)  # counted as open, may be overdue


def allowed_after(status: str) -> frozenset[str]:
    """The statuses a case in ``status`` may move to (none for an unknown status)."""
    return TRANSITIONS.get(status, frozenset())
