"""No double bookings under concurrency (PostgreSQL): parallel attempts to book the same
room for overlapping times, each in its own thread and database connection, give exactly one
booking; and the exclusion constraint refuses an overlap even when the service is bypassed."""

from __future__ import annotations

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from rathaus.economy.constants import BookingStatus
from rathaus.economy.models import Membership, RoomBooking
from rathaus.economy.services import rooms as services
from rathaus.economy.services.rooms import BookingError
from rathaus.economy.tests.test_rooms import at, member_of, organisation, room

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: row locks across connections and the exclusion constraint; "
        "SQLite serialises writers with IMMEDIATE transactions instead",
    ),
]

ATTEMPTS = 6


def test_parallel_overlapping_bookings_exactly_one_succeeds() -> None:
    r = room()
    users = [member_of(organisation(f"Firma {i}")) for i in range(ATTEMPTS)]
    org_ids = {u.pk: Membership.objects.get(user=u).organisation_id for u in users}
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        user = users[index]
        try:
            barrier.wait()
            # each try overlaps every other: 10:00-12:00 shifted by up to 50 minutes
            services.room_booking_create(
                actor=user,
                room_id=r.pk,
                starts_at=at(0, 10, index * 10),
                ends_at=at(0, 12, index * 10),
                title=f"Versuch {index}",
                organisation_id=org_ids[user.pk],
            )
            result = "booked"
        except BookingError as error:
            result = f"refused:{error.code}"
        except Exception as error:  # noqa: BLE001 - any other outcome fails the test below
            result = f"error:{type(error).__name__}:{error}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["refused:conflict"] * (ATTEMPTS - 1), outcomes
    assert RoomBooking.objects.filter(room=r, status=BookingStatus.BOOKED).count() == 1


def test_exclusion_constraint_refuses_an_overlap_written_past_the_service() -> None:
    r = room()
    user = member_of(organisation())
    RoomBooking.objects.create(room=r, title="A", starts_at=at(0, 10), ends_at=at(0, 12))
    with pytest.raises(IntegrityError), transaction.atomic():
        RoomBooking.objects.create(room=r, title="B", starts_at=at(0, 11), ends_at=at(0, 13))
    # touching intervals and cancelled bookings are allowed by the constraint
    RoomBooking.objects.create(room=r, title="C", starts_at=at(0, 12), ends_at=at(0, 13))
    RoomBooking.objects.create(
        room=r,
        title="D",
        starts_at=at(0, 10),
        ends_at=at(0, 12),
        status=BookingStatus.CANCELLED,
        booked_by=user,
    )
    assert RoomBooking.objects.filter(room=r).count() == 3
