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
from rathaus.cases.deadlines import add_working_days
from rathaus.cases.models import Case, CaseEvent
from rathaus.catalog.models import Service
from rathaus.core.crypto import encrypt_json
from rathaus.forms.constants import VersionStatus
from rathaus.forms.models import FormVersion
from rathaus.submissions.models import IssuedReference, Submission
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
FIRST = ["Erika", "Max", "Anna", "Lukas", "Sophie", "Paul", "Marie", "Felix", "Lena", "Jonas"]
LAST = ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker"]


class SeedingImpossible(Exception):
    """What is missing before cases can be seeded."""


@dataclass
class SeedResult:
    created: int = 0
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)


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
    weights = [weight for weight, _path in PATHS]
    result = SeedResult()
    now = timezone.now()
    while result.created < count:
        size = min(batch, count - result.created)
        made = _batch(size, rng, targets, members, weights, now)
        result.created += made
        if made < size:
            result.skipped += size - made
            why = "reference numbers drawn twice (drawn again)"
            result.reasons[why] = result.reasons.get(why, 0) + size - made
        progress(result.created, count)
    return result


def _batch(
    size: int,
    rng: random.Random,
    targets: list[tuple[FormVersion, Service, int]],
    members: dict[int, list[int]],
    weights: list[float],
    now: datetime,
) -> int:
    references: dict[str, None] = {}
    while len(references) < size:
        when = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        references[new_reference(settings.REFERENCE_PREFIX, when.year)] = None
    taken = set(
        IssuedReference.objects.filter(value__in=references).values_list("value", flat=True)
    )
    fresh = [r for r in references if r not in taken]
    submissions, plans = [], []
    for reference in fresh:
        version, service, office_id = rng.choice(targets)
        received = now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
        path = rng.choices([p for _w, p in PATHS], weights)[0]
        name = {"vorname": rng.choice(FIRST), "familienname": rng.choice(LAST)}
        submissions.append(
            Submission(
                reference=reference,
                version=version,
                service=service,
                office_id=office_id,
                submitted_at=received,
                status=path[-1] if path else S.RECEIVED,
                data_encrypted=encrypt_json(name),
                status_code_encrypted=encrypt_json(f"seed{rng.randrange(10**9)}"),
            )
        )
        plans.append((service, office_id, received, path))
    with transaction.atomic():
        IssuedReference.objects.bulk_create(
            [IssuedReference(value=s.reference, issued_at=s.submitted_at) for s in submissions]
        )
        Submission.objects.bulk_create(submissions)
        cases = []
        for submission, (service, office_id, received, path) in zip(
            submissions, plans, strict=True
        ):
            local = timezone.localdate(received)
            days = service.processing_days or 20
            status = path[-1] if path else S.RECEIVED
            staff = members.get(office_id, [])
            cases.append(
                Case(
                    submission=submission,
                    reference=submission.reference,
                    service=service,
                    office_id=office_id,
                    status=status,
                    decision=rng.choice(Decision.values) if S.DECIDED in path else "",
                    assignee_id=rng.choice(staff)
                    if staff and path and rng.random() < 0.8
                    else None,
                    priority=rng.choices(Priority.values, [1, 8, 1])[0],
                    received_at=received,
                    due_on=add_working_days(local, days),
                    closed_at=received + timedelta(days=rng.randrange(1, 60))
                    if status in (S.CLOSED, S.WITHDRAWN)
                    else None,
                    version=1 + len(path),
                )
            )
        Case.objects.bulk_create(cases)
        events = []
        for case, (_service, _office, received, path) in zip(cases, plans, strict=True):
            events.append(
                CaseEvent(case=case, kind=CaseEvent.Kind.OPENED, at=received, to_status=S.RECEIVED)
            )
            previous: str = S.RECEIVED
            at = received
            for step in path:
                at += timedelta(hours=rng.randrange(1, 24 * 10))
                events.append(
                    CaseEvent(
                        case=case,
                        kind=CaseEvent.Kind.TRANSITION,
                        at=at,
                        from_status=previous,
                        to_status=step,
                    )
                )
                previous = step
        CaseEvent.objects.bulk_create(events)
    return len(submissions)
