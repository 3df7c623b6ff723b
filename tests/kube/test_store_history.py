"""The watch history, as etcd's after the API server's compaction: it keeps the events of the last
``history_seconds`` (the real server compacts every 5 minutes), whatever their number up to a bound
far above a burst's. A paged list started before 25,000 writes (more than the 20,000 events the
history once held, which let a 10,000-object list expire under the operator benchmark) stays
consistent; an event older than the window is compacted."""

from __future__ import annotations

import time
from typing import Any

import pytest

from aso.sandbox.kube.store import Gone, Store

pytestmark = pytest.mark.timeout(60)

KEY = ("test.aso.dev", "widgets")


def _obj(name: str, generation: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "default", "uid": name, "generation": generation}}


def test_a_burst_of_writes_within_the_window_keeps_every_event() -> None:
    store = Store()
    first = store.save(KEY, _obj("w-0")).rv
    for i in range(25_000):
        store.save(KEY, _obj(f"w-{i % 1000}", i))
    assert store.compacted_for(KEY) < first
    listed = store.list_at(KEY, "default", first, None)
    assert [o["metadata"]["name"] for o in listed] == ["w-0"]


def test_events_older_than_the_window_are_compacted() -> None:
    store = Store(history_seconds=0.2)
    started = time.monotonic()
    first = store.save(KEY, _obj("w-0")).rv
    deadline = started + 10
    while store.compacted_for(KEY) < first:  # each write compacts what has grown too old
        assert time.monotonic() < deadline, "never compacted"
        store.save(KEY, _obj("w-1"))
    assert time.monotonic() - started >= 0.2
    with pytest.raises(Gone):
        store.list_at(KEY, "default", first - 1, None)


def test_the_history_is_bounded_by_its_size_whatever_the_window() -> None:
    store = Store(history_size=100, history_seconds=3600)
    first = store.save(KEY, _obj("w-0")).rv
    for i in range(100):
        store.save(KEY, _obj(f"w-{i}"))
    assert store.compacted_for(KEY) >= first
