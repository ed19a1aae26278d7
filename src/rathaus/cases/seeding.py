"""Synthetic cases for load tests and benchmarks (``rathaus seed-cases``): submissions of the
published demo forms with made-up applicants, each with its case at a realistic point of the
workflow and the history that led there. Written in batches with bulk inserts; never for
production data."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from rathaus.accounts.models import OfficeMembership
from rathaus.cases.constants import CaseStatus as S
from rathaus.cases.constants import Decision, Priority
from rathaus.cases.deadlines import due_date
from rathaus.cases.models import Case, CaseEvent, CaseNameToken
from rathaus.cases.services import name_tokens
from rathaus.catalog.models import Service
from rathaus.core.crypto import encrypt_json
from rathaus.forms.constants import VersionStatus
from rathaus.forms.models import FormVersion
from rathaus.submissions.models import IssuedReference, StatusEvent, Submission
from rathaus.submissions.references import new_reference

# Where seeded cases stand, with how often, and the path that led there.
PATHS: list[tuple[float, list[str]]] = [
    (0.15, []),
    (0.35, [S.IN_PROGRESS]),
    (0.10, [S.IN_PROGRESS, S.QUERY]),
    (0.10, [S.IN_PROGRESS, S.DECIDED]),
    (0.23, [S.IN_PROGRESS, S.DECIDED, S.CLOSED]),
    (0.03, [S.FORWARDED]),
    (0.04, [S.WITHDRAWN]),
]
# Cases received more than RECENT_DAYS ago: most are done, a few are stuck (and overdue)
OLD_PATHS: list[tuple[float, list[str]]] = [
    (0.01, []),
    (0.03, [S.IN_PROGRESS]),
    (0.01, [S.IN_PROGRESS, S.QUERY]),
    (0.01, [S.IN_PROGRESS, S.DECIDED]),
    (0.88, [S.IN_PROGRESS, S.DECIDED, S.CLOSED]),
    (0.06, [S.WITHDRAWN]),
]
RECENT_DAYS = 60
FIRST = (
    "Erika Max Anna Lukas Sophie Paul Marie Felix Lena Jonas Emma Ben Mia Leon Hannah Elias "
    "Emilia Noah Lina Finn Ella Luis Clara Henry Ida Emil Lea Anton Frieda Karl Greta Theo "
    "Mila Oskar Leni Jakob Nele Moritz Jana Ali Ayşe Mehmet Olga Dmitri Zoé François Łucja"
).split()
LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter "
    "Klein Wolf Schröder Neumann Schwarz Braun Zimmermann Krüger Hartmann Lange Werner Krause "
    "Lehmann Köhler Herrmann König Walter Günther Yılmaz Nguyen Kowalski Popescu Öztürk"
).split()
# the long tail of family names: most people do not share theirs with thousands of others
STEMS = "Ahl Bern Eber Fried Gold Hage Hell Kamp Lind Mar Nord Ost Ros Stein Wald Wie".split()
ENDS = "bach berg brink dorf feld hagen hof horst kamp mann meier rath ried stedt wald".split()


def _family_name(rng: random.Random) -> str:
    return rng.choice(LAST) if rng.random() < 0.5 else rng.choice(STEMS) + rng.choice(ENDS)


class SeedingImpossible(Exception):
    """What is missing before cases can be seeded."""


@dataclass
class SeedResult:
    created: int = 0
    reasons: dict[str, int] = field(default_factory=dict)  # what was skipped, and why

    @property
    def skipped(self) -> int:
        return sum(self.reasons.values())


def seed_cases(
    *,
    count: int,
    batch: int = 2000,
    seed: int = 1,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> SeedResult:
    """Create ``count`` synthetic cases in the offices responsible for services with
    published forms; ``progress(done, count)`` after each batch."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    targets = [
        (version, service, office_id)
        for version in FormVersion.objects.filter(status=VersionStatus.PUBLISHED)
        for service in Service.objects.filter(forms__pk=version.form_id)
        for office_id in service.offices.values_list("pk", flat=True)
    ]
    if not targets:
        raise SeedingImpossible(
            "no published form whose service has a responsible office: run `rathaus seed-demo` first"
        )
    members: dict[int, list[int]] = {}
    for user_id, office_id in OfficeMembership.objects.values_list("user_id", "office_id"):
        members.setdefault(office_id, []).append(user_id)
    result = SeedResult()
    now = timezone.now()
    while result.created < count:
        size = min(batch, count - result.created)
        made = _batch(size, rng, targets, members, now)
        result.created += made
        if made < size:
            why = "reference numbers drawn twice (drawn again)"
            result.reasons[why] = result.reasons.get(why, 0) + size - made
        progress(result.created, count)
    return result


def _batch(
    size: int,
    rng: random.Random,
    targets: list[tuple[FormVersion, Service, int]],
    members: dict[int, list[int]],
    now: datetime,
) -> int:
    """One batch: each case received within the last two years (its reference number of that
    year), its steps a few hours to days apart and never after ``now``; the citizen's
    timeline has the same steps; a forwarded case sits in the office it went to."""
    offices = sorted({office_id for _v, _s, office_id in targets})
    drawn: dict[str, datetime] = {}
    while len(drawn) < size:
        received = now - timedelta(minutes=rng.randrange(1, 2 * 365 * 24 * 60))
        year = timezone.localtime(received).year
        drawn.setdefault(new_reference(settings.REFERENCE_PREFIX, year), received)
    taken = set(IssuedReference.objects.filter(value__in=drawn).values_list("value", flat=True))
    submissions: list[Submission] = []
    applicants: dict[str, str] = {}
    plans: list[tuple[Service, int, list[tuple[str, datetime]]]] = []
    for reference, received in drawn.items():
        if reference in taken:
            continue
        version, service, office_id = rng.choice(targets)
        paths = PATHS if now - received < timedelta(days=RECENT_DAYS) else OLD_PATHS
        path = rng.choices([p for _w, p in paths], [w for w, _p in paths])[0]
        if S.FORWARDED in path:
            elsewhere = [o for o in offices if o != office_id]
            if not elsewhere:
                path = [S.IN_PROGRESS]  # nowhere to forward to
            else:
                office_id = rng.choice(elsewhere)
        steps, at = [], received
        for step in path:
            at = min(at + timedelta(hours=rng.randrange(1, 24 * 10)), now)
            steps.append((step, at))
        name = {"vorname": rng.choice(FIRST), "familienname": _family_name(rng)}
        submissions.append(
            Submission(
                reference=reference,
                version=version,
                service=service,
                office_id=office_id,
                submitted_at=received,
                status=steps[-1][0] if steps else S.RECEIVED,
                data_encrypted=encrypt_json(name),
                status_code_encrypted=encrypt_json(f"seed{rng.randrange(10**9)}"),
            )
        )
        plans.append((service, office_id, steps))
        applicants[reference] = f"{name['vorname']} {name['familienname']}"
    with transaction.atomic():
        IssuedReference.objects.bulk_create(
            [IssuedReference(value=s.reference, issued_at=s.submitted_at) for s in submissions]
        )
        Submission.objects.bulk_create(submissions)
        cases = []
        for submission, (service, office_id, steps) in zip(submissions, plans, strict=True):
            status, last = steps[-1] if steps else (S.RECEIVED, submission.submitted_at)
            staff = members.get(office_id, [])
            cases.append(
                Case(
                    submission=submission,
                    reference=submission.reference,
                    service=service,
                    office_id=office_id,
                    status=status,
                    decision=rng.choice(Decision.values)
                    if any(step == S.DECIDED for step, _at in steps)
                    else "",
                    # most decisions go out as letters through Rathaus, some on paper
                    letter_issued_at=next((at for step, at in steps if step == S.DECIDED), None)
                    if rng.random() < 0.7
                    else None,
                    assignee_id=rng.choice(staff)
                    if staff and steps and status != S.FORWARDED and rng.random() < 0.8
                    else None,
                    priority=rng.choices(Priority.values, [1, 8, 1])[0],
                    received_at=submission.submitted_at,
                    due_on=due_date(submission.submitted_at, service.processing_days),
                    closed_at=last if status in (S.CLOSED, S.WITHDRAWN) else None,
                    version=1 + len(steps),
                    applicant_encrypted=encrypt_json(applicants[submission.reference]),
                )
            )
        Case.objects.bulk_create(cases)
        CaseNameToken.objects.bulk_create(
            token
            for case in cases
            for token in name_tokens(case_id=case.pk, name=applicants[case.reference])
        )
        events: list[CaseEvent] = []
        timeline: list[StatusEvent] = []
        for case, (_service, _office, steps) in zip(cases, plans, strict=True):
            events.append(
                CaseEvent(
                    case=case, kind=CaseEvent.Kind.OPENED, at=case.received_at, to_status=S.RECEIVED
                )
            )
            timeline.append(
                StatusEvent(submission=case.submission, status=S.RECEIVED, at=case.received_at)
            )
            previous: str = S.RECEIVED
            for step, at in steps:
                events.append(
                    CaseEvent(
                        case=case,
                        kind=CaseEvent.Kind.TRANSITION,
                        at=at,
                        from_status=previous,
                        to_status=step,
                    )
                )
                timeline.append(StatusEvent(submission=case.submission, status=step, at=at))
                previous = step
        CaseEvent.objects.bulk_create(events)
        StatusEvent.objects.bulk_create(timeline)
    return len(submissions)
