"""Answers a process keeps for a few seconds: for reads made on every request whose answer
rarely changes (which version of a form is current, which office a form goes to). Whatever
writes on the strength of such an answer checks it again in the same statement, or can live
with an answer that is a few seconds old; the service that changes the answer forgets it in
its own process at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")
_ALL: list[Recent[object]] = []


class Recent(Generic[T]):
    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds, self.clock = seconds, clock
        self._answers: dict[Hashable, tuple[float, T]] = {}
        self._lock = threading.Lock()
        _ALL.append(self)  # type: ignore[arg-type]

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        now = self.clock()
        kept = self._answers.get(key)
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        answer = compute()
        with self._lock:
            if len(self._answers) > 10_000:  # bounded: a flood of keys cannot grow it
                self._answers.clear()
            self._answers[key] = (now, answer)
        return answer

    def forget(self, key: Hashable | None = None) -> None:
        with self._lock:
            if key is None:
                self._answers.clear()
            else:
                self._answers.pop(key, None)


def forget_all() -> None:
    """Every kept answer of this process (tests start each case with none)."""
    for recent in _ALL:
        recent.forget()
