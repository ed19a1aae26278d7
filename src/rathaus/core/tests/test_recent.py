"""Answers kept for a few seconds per process (core.recent): asked again once they are older,
at once when forgotten, and a failed question is not kept."""

from __future__ import annotations

import pytest

from rathaus.core.recent import Recent


def test_an_answer_is_kept_for_its_seconds_then_asked_again() -> None:
    clock = [1000.0]
    answers = iter(["first", "second", "third"])
    kept: Recent[str] = Recent(seconds=5, clock=lambda: clock[0])
    assert kept.get("slug", lambda: next(answers)) == "first"
    clock[0] += 4.9
    assert kept.get("slug", lambda: next(answers)) == "first"
    clock[0] += 0.2
    assert kept.get("slug", lambda: next(answers)) == "second"
    kept.forget("slug")  # the service that changed it, in this process
    assert kept.get("slug", lambda: next(answers)) == "third"


def test_a_failed_question_is_not_kept() -> None:
    kept: Recent[str] = Recent(seconds=5)

    def missing() -> str:
        raise LookupError("no such form")

    with pytest.raises(LookupError):
        kept.get("gone", missing)
    assert kept.get("gone", lambda: "there now") == "there now"
