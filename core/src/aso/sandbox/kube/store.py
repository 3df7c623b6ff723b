"""In-memory object storage: the server's etcd.

Objects are indexed by (group, plural) → namespace → name, so a GET or PATCH costs the same at
ten objects as at ten thousand. Every write takes the next value of one global
``resourceVersion`` counter and is appended to a per-kind history, from which watches resume and
continue pages are read; a version older than the history holds gets 410 Gone, like etcd after
compaction. As the real API server compacts etcd every 5 minutes, the history keeps the events of
the last ``history_seconds`` (300), bounded by ``history_size`` events (200,000) so that a burst
cannot grow it without end: a paged list of 10,000 objects read while they are being written
(3 events each) stays consistent, as it does on a real cluster. With a state directory, writes
are journalled (JSON lines) and the journal is folded into a snapshot at start and stop, so a
restarted server continues with the same objects and the same counter.

Stored dicts are never mutated after :meth:`Store.save`: events and readers share them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .model import TypeKey

Json = dict[str, Any]
ObjectKey = tuple[TypeKey, str, str]  # ((group, plural), namespace or "", name)

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Event:
    """One change of one object; ``old`` is the previous state (None on ADDED)."""

    rv: int
    type: str
    obj: Json
    old: Json | None
    # Serialised forms per (version, format), shared by every watcher of the event.
    cache: dict[Any, Any] = field(default_factory=dict)
    # When it happened (time.monotonic): the history keeps the last ``history_seconds``.
    at: float = field(default_factory=time.monotonic)


class Gone(Exception):
    """The requested resourceVersion is older than the retained history."""


@dataclass(eq=False)
class Subscription:
    """A watcher's queue of events of one kind; ``None`` in the queue closes it."""

    key: TypeKey
    namespace: str | None
    queue: asyncio.Queue[Event | None] = field(default_factory=asyncio.Queue)


def _meta(obj: Json) -> Json:
    meta: Json = obj["metadata"]
    return meta


class Store:
    def __init__(
        self, state_dir: Path | None = None, *, history_size: int = 200_000, history_seconds: float = 300.0
    ) -> None:
        self.rv = 0
        self._objects: dict[TypeKey, dict[str, dict[str, Json]]] = {}
        self.by_uid: dict[str, ObjectKey] = {}
        # owner uid → keys of objects listing it in ownerReferences (for garbage collection).
        self.dependents: dict[str, set[ObjectKey]] = {}
        self._history: dict[TypeKey, deque[Event]] = {}
        self._compacted: dict[TypeKey, int] = {}
        # The counter at the last load: history before it is gone for kinds created since.
        self._compacted_default = 0
        self._history_size = history_size
        self._history_seconds = history_seconds
        self._subscriptions: dict[TypeKey, set[Subscription]] = {}
        self._state_dir = state_dir
        self._journal: IO[str] | None = None

    # -- reading ---------------------------------------------------------------------------

    def get(self, key: TypeKey, namespace: str, name: str) -> Json | None:
        return self._objects.get(key, {}).get(namespace, {}).get(name)

    def iter(self, key: TypeKey, namespace: str | None = None) -> Iterator[Json]:
        """Objects in storage order: by namespace, then name (as etcd keys sort)."""
        spaces = self._objects.get(key, {})
        if namespace is not None:
            names = spaces.get(namespace, {})
            for name in sorted(names):
                yield names[name]
            return
        for ns in sorted(spaces):
            names = spaces[ns]
            for name in sorted(names):
                yield names[name]

    def list_at(
        self, key: TypeKey, namespace: str | None, rv: int, after: tuple[str, str] | None = None
    ) -> list[Json]:
        """Objects as they were at resourceVersion ``rv``, in storage order, from just after the
        ``(namespace, name)`` key ``after``: today's objects with the retained history after ``rv``
        undone, as etcd reads at a revision. Raises :class:`Gone` once that history is compacted."""
        oldest = self.compacted_for(key)
        if rv < oldest:
            raise Gone(f"too old resource version: {rv} ({oldest + 1})")
        state: dict[tuple[str, str], Json] = {}
        for obj in self.iter(key, namespace):
            meta = _meta(obj)
            state[(meta.get("namespace", ""), meta["name"])] = obj
        for event in reversed(self._history.get(key, ())):
            if event.rv <= rv:
                break
            meta = _meta(event.obj)
            where = (meta.get("namespace", ""), meta["name"])
            if namespace is not None and where[0] != namespace:
                continue
            if event.old is None:  # ADDED after rv: not there yet
                state.pop(where, None)
            else:  # MODIFIED or DELETED after rv: as it was before
                state[where] = event.old
        return [state[k] for k in sorted(state) if after is None or k > after]

    def count(self, key: TypeKey, namespace: str | None = None) -> int:
        spaces = self._objects.get(key, {})
        if namespace is not None:
            return len(spaces.get(namespace, {}))
        return sum(len(names) for names in spaces.values())

    def keys(self) -> list[TypeKey]:
        return list(self._objects)

    # -- writing ---------------------------------------------------------------------------

    def next_rv(self) -> int:
        self.rv += 1
        return self.rv

    def save(self, key: TypeKey, obj: Json, *, journal: bool = True) -> Event:
        """Store ``obj`` (its metadata.resourceVersion is set here) and notify watchers."""
        meta = _meta(obj)
        rv = self.next_rv()
        meta["resourceVersion"] = str(rv)
        ns, name = meta.get("namespace", ""), meta["name"]
        names = self._objects.setdefault(key, {}).setdefault(ns, {})
        old = names.get(name)
        names[name] = obj
        self._index(key, ns, name, old, obj)
        event = Event(rv=rv, type="MODIFIED" if old is not None else "ADDED", obj=obj, old=old)
        self._publish(key, event)
        if journal:
            self._write({"op": "save", "key": list(key), "obj": obj, "rv": rv})
        return event

    def remove(self, key: TypeKey, namespace: str, name: str, *, journal: bool = True) -> Event | None:
        """Delete an object; the DELETED event carries it with a fresh resourceVersion."""
        names = self._objects.get(key, {}).get(namespace, {})
        old = names.pop(name, None)
        if old is None:
            return None
        if not names:
            del self._objects[key][namespace]
        rv = self.next_rv()
        final = {**old, "metadata": {**_meta(old), "resourceVersion": str(rv)}}
        self._index(key, namespace, name, old, None)
        event = Event(rv=rv, type="DELETED", obj=final, old=old)
        self._publish(key, event)
        if journal:
            self._write({"op": "remove", "key": list(key), "ns": namespace, "name": name, "rv": rv})
        return event

    def drop_kind(self, key: TypeKey) -> None:
        """Forget every object of a kind (its CRD is gone), telling watchers it was deleted."""
        for obj in list(self.iter(key)):
            meta = _meta(obj)
            self.remove(key, meta.get("namespace", ""), meta["name"])
        self._objects.pop(key, None)
        for sub in self._subscriptions.pop(key, set()):
            sub.queue.put_nowait(None)

    def _index(self, key: TypeKey, ns: str, name: str, old: Json | None, new: Json | None) -> None:
        where = (key, ns, name)
        if old is not None:
            self.by_uid.pop(_meta(old).get("uid", ""), None)
            for ref in _meta(old).get("ownerReferences") or []:
                deps = self.dependents.get(ref.get("uid", ""))
                if deps is not None:
                    deps.discard(where)
                    if not deps:
                        del self.dependents[ref["uid"]]
        if new is not None:
            self.by_uid[_meta(new)["uid"]] = where
            for ref in _meta(new).get("ownerReferences") or []:
                self.dependents.setdefault(ref.get("uid", ""), set()).add(where)

    # -- watching --------------------------------------------------------------------------

    def _publish(self, key: TypeKey, event: Event) -> None:
        history = self._history.get(key)
        if history is None:
            history = self._history[key] = deque()
        too_old = event.at - self._history_seconds
        while history and (len(history) >= self._history_size or history[0].at < too_old):
            self._compacted[key] = history.popleft().rv
        history.append(event)
        for sub in self._subscriptions.get(key, ()):
            sub.queue.put_nowait(event)

    def subscribe(
        self, key: TypeKey, namespace: str | None, since: int | None
    ) -> tuple[Subscription, list[Event]]:
        """Register a watcher; with ``since``, also return the retained events after it (or raise Gone).

        Both happen without yielding to the loop, so no event falls between replay and live.
        """
        replay: list[Event] = []
        if since is not None:
            oldest = self.compacted_for(key)
            if since < oldest:
                raise Gone(f"too old resource version: {since} ({oldest + 1})")
            for event in reversed(self._history.get(key, ())):
                if event.rv <= since:
                    break
                replay.append(event)
            replay.reverse()
        sub = Subscription(key=key, namespace=namespace)
        self._subscriptions.setdefault(key, set()).add(sub)
        return sub, replay

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscriptions.get(sub.key, set()).discard(sub)

    def close_all(self) -> None:
        for subs in self._subscriptions.values():
            for sub in subs:
                sub.queue.put_nowait(None)
        self._subscriptions.clear()

    # -- persistence -----------------------------------------------------------------------

    def _write(self, record: Json) -> None:
        if self._journal is not None:
            self._journal.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._journal.flush()

    def load(self) -> None:
        """Read snapshot + journal from the state dir, then fold them into a fresh snapshot."""
        if self._state_dir is None:
            return
        self._state_dir.mkdir(parents=True, exist_ok=True)
        snapshot = self._state_dir / "snapshot.json"
        journal = self._state_dir / "journal.jsonl"
        if snapshot.exists():
            data = json.loads(snapshot.read_text())
            for key, obj in data["objects"]:
                self._put_quiet((key[0], key[1]), obj)
            self.rv = int(data["rv"])
        if journal.exists():
            with journal.open() as lines:
                for line in lines:
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except json.JSONDecodeError:
                        log.warning("ignoring a torn journal line in %s", journal)
                        break
                    key = (record["key"][0], record["key"][1])
                    if record["op"] == "save":
                        self._put_quiet(key, record["obj"])
                    else:
                        self._drop_quiet(key, record["ns"], record["name"])
                    self.rv = max(self.rv, int(record["rv"]))
        # History did not survive: every watch from before the restart must relist.
        for key in self._objects:
            self._compacted[key] = self.rv
        self._compacted_default = self.rv
        self.compact()
        self._journal = journal.open("a", encoding="utf-8")

    def _put_quiet(self, key: TypeKey, obj: Json) -> None:
        meta = _meta(obj)
        ns, name = meta.get("namespace", ""), meta["name"]
        names = self._objects.setdefault(key, {}).setdefault(ns, {})
        old = names.get(name)
        names[name] = obj
        self._index(key, ns, name, old, obj)

    def _drop_quiet(self, key: TypeKey, ns: str, name: str) -> None:
        names = self._objects.get(key, {}).get(ns, {})
        old = names.pop(name, None)
        if old is not None:
            self._index(key, ns, name, old, None)

    def compact(self) -> None:
        """Write every object and the counter to snapshot.json and empty the journal."""
        if self._state_dir is None:
            return
        objects = [
            [list(key), obj]
            for key, spaces in self._objects.items()
            for names in spaces.values()
            for obj in names.values()
        ]
        tmp = self._state_dir / "snapshot.json.tmp"
        tmp.write_text(json.dumps({"rv": self.rv, "objects": objects}))
        os.replace(tmp, self._state_dir / "snapshot.json")
        if self._journal is not None:
            self._journal.close()
        (self._state_dir / "journal.jsonl").write_text("")
        if self._journal is not None:
            self._journal = (self._state_dir / "journal.jsonl").open("a", encoding="utf-8")

    def close(self) -> None:
        self.close_all()
        if self._state_dir is not None:
            self.compact()
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def compacted_for(self, key: TypeKey) -> int:
        return self._compacted.get(key, self._compacted_default)
