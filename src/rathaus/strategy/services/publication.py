"""Publishing a strategy: the snapshot of its current state becomes the next published state
(``Publication``), the one the public pages show from then on. Publications are never
changed afterwards; older ones stay readable."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts.models import User
from rathaus.core.services import audit_entry_create, outbox_message_create
from rathaus.strategy.models import Publication, Strategy
from rathaus.strategy.selectors.gate import strategy_staff_required
from rathaus.strategy.selectors.snapshot import strategy_snapshot
from rathaus.strategy.services import StrategyError

NOTE_MAX = 2000


def strategy_publish(*, actor: User, strategy_id: int, note: str = "") -> Publication:
    """Publish the strategy's current state as its next numbered state (department staff
    only), write the audit entry and queue the regeneration of its open-data dataset."""
    strategy_staff_required(user=actor)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise StrategyError(
            _("Die Anmerkung ist zu lang (höchstens %(max)d Zeichen).") % {"max": NOTE_MAX},
            field="note",
        )
    with transaction.atomic():
        # the lock orders two publishers of the same strategy: each gets its own number
        strategy = Strategy.objects.select_for_update().filter(pk=strategy_id).first()
        if strategy is None:
            raise StrategyError(_("Diese Strategie gibt es nicht."), code="not_found")
        last = Publication.objects.filter(strategy=strategy).aggregate(n=Max("number"))["n"]
        publication = Publication.objects.create(
            strategy=strategy,
            number=(last or 0) + 1,
            published_at=timezone.now(),
            published_by=actor,
            note=note,
            data=strategy_snapshot(strategy=strategy),
        )
        audit_entry_create(
            actor=actor,
            action="strategy.publication.create",
            object_type="strategy.publication",
            object_id=publication.pk,
            after={
                "strategy_id": strategy.pk,
                "number": publication.number,
                "published_at": publication.published_at.isoformat(),
                "note": note,
                "measures": len(publication.data["measures"]),
                "indicators": len(publication.data["indicators"]),
            },
        )
        _queue_open_data(publication)
    return publication


def _queue_open_data(publication: Publication) -> None:
    """The catalogue's dataset of the strategy follows the new state (citydata/publishing.py);
    written in the same transaction, delivered by the worker once it commits."""
    from rathaus.citydata.publishing import REFRESH_TOPIC, STRATEGY_GENERATOR

    outbox_message_create(
        topic=REFRESH_TOPIC,
        payload={"generators": [STRATEGY_GENERATOR]},
        idempotency_key=f"strategy.publication.{publication.pk}.open-data",
    )
