"""Replay recorded real ARM traffic (``shared/conformance/arm-recordings``) against the emulator.

Each recorded non-poll request is sent again, in order, with the same method, path,
api-version and body. Long-running operations are followed to their end on both sides (the
recording's own polls; the emulator's by polling it). An interaction matches when:

- the status code is the same (for a PUT, 200 and 201 count as the same: which one Azure sends
  depends on whether the resource existed before the recording), or, for a long-running
  operation, the same pattern (synchronous, or asynchronous with the same
  ``Azure-AsyncOperation``/``Location`` headers present);
- the terminal state of the operation is the same (``Succeeded``/``Failed``);
- a resource body from a GET has exactly the recorded top-level and ``properties`` keys, and those
  of ``properties.resource`` where Cosmos DB keeps a database's or container's fields (a PUT
  answer has at least them: Azure often answers a PUT with a slimmer body than the next GET),
  and the same ``type``, ``location`` and values of the scalar properties the client sent (what
  a naive client compares, normalised as the provider returns them);
- the error code is the same, and so is the first line of the message (further lines carry the
  request id, time or activity id a provider appends).

A ``Location`` header that is the resource's own URL announces no operation. An operation status
document is recognised by its ``status`` whatever else it carries (``"properties": null``).
Failures Azure produced transiently are reproduced with the emulator's fault injection, and only
those: a 429 or 5xx answer to a request that later succeeded, an operation that ended ``Failed``
and was retried with success. A 400 or 409 is never injected: the emulator must produce it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from aso.testing.arm import ArmEmulatorHandle, ArmHttp

RECORDED_HOST = "https://management.azure.com"
LRO_HEADERS = ("Azure-AsyncOperation", "Location")


@dataclass
class Outcome:
    index: int
    method: str
    path: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    injected: str | None = None
    # Terminal state of a long-running operation compared with the recording's.
    terminal: str | None = None


@dataclass
class FileResult:
    name: str
    outcomes: list[Outcome]

    @property
    def matched(self) -> int:
        return sum(o.ok for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def operations(self) -> int:
        return sum(o.terminal is not None for o in self.outcomes)

    @property
    def injected(self) -> int:
        return sum(o.injected is not None for o in self.outcomes)

    def mismatches(self) -> dict[int, list[str]]:
        return {o.index: o.problems for o in self.outcomes if not o.ok}


def _path_only(url: str) -> str:
    return urlsplit(url).path.lower()


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _operation_urls(headers: dict[str, str], request_url: str) -> dict[str, str]:
    """The operation headers of an answer, by name, as absolute URLs.

    A ``Location`` that is the resource's own URL (ARM's "201 Created" with the new resource's
    address, e.g. Redis firewall rules, managed identities) announces no operation.
    """
    out: dict[str, str] = {}
    own = _path_only(request_url).rstrip("/")
    for name in LRO_HEADERS:
        value = _header(headers, name)
        if value is None:
            continue
        url = urljoin(request_url, value)
        if name == "Location" and _path_only(url).rstrip("/") == own:
            continue
        out[name] = url
    return out


def _lro_headers(headers: dict[str, str], request_url: str) -> frozenset[str]:
    return frozenset(_operation_urls(headers, request_url))


def _is_status_document(body: Any) -> bool:
    """An operation status document (``{"id", "name", "status", ...}``), not a resource body.

    Azure sometimes adds ``"properties": null`` (Redis) or a ``properties`` object to a status
    document; a resource body always carries its ``type``.
    """
    return isinstance(body, dict) and isinstance(body.get("status"), str) and "type" not in body


def _resource_type(path: str) -> str:
    segs = [s for s in urlsplit(path).path.split("/") if s]
    lowered = [s.lower() for s in segs]
    if "providers" not in lowered:
        return "Microsoft.Resources/resourceGroups"
    i = len(lowered) - 1 - lowered[::-1].index("providers")
    rest = segs[i + 2 :]
    return "/".join([segs[i + 1], *rest[0::2]])


def _recorded_terminal(recs: list[dict[str, Any]], start: int) -> str | None:
    """Follow the recording's polls of the operation started at ``start``."""
    urls = _recorded_operation_paths(recs[start])
    state: str | None = None
    for rec in recs[start + 1 :]:
        if _path_only(rec["path"]) not in urls or rec["method"] != "GET":
            continue
        body = rec["response_body"]
        if _is_status_document(body):
            status = body["status"]
            if status in ("Succeeded", "Failed", "Canceled"):
                state = status
        elif rec["status"] in (200, 201, 204):
            state = "Succeeded"
        elif rec["status"] >= 400:
            state = "Failed"
    return state


def _recorded_operation_paths(rec: dict[str, Any]) -> set[str]:
    urls = _operation_urls(rec["response_headers"], RECORDED_HOST + rec["path"])
    return {_path_only(url) for url in urls.values()}


def _recorded_error(recs: list[dict[str, Any]], start: int) -> dict[str, Any] | None:
    urls = _recorded_operation_paths(recs[start])
    for rec in recs[start + 1 :]:
        body = rec["response_body"]
        if _path_only(rec["path"]) in urls and _is_status_document(body) and body.get("status") == "Failed":
            error: dict[str, Any] = body.get("error") or {}
            return error
    return None


def _plain_message(message: Any) -> Any:
    """The first line of an error message: what a provider appends on further lines is diagnostics
    (Redis ``RequestID=...``, Storage's data plane ``RequestId:... Time:...``, Cosmos DB
    ``ActivityId: ...``), different at every request."""
    if not isinstance(message, str):
        return message
    return message.splitlines()[0] if message else message


def _same_status(method: str, recorded: int, ours: int) -> bool:
    # Whether a PUT creates (201) or updates (200) depends on what existed when Azure recorded it.
    return recorded == ours or (method == "PUT" and {recorded, ours} <= {200, 201})


def _is_poll(rec: dict[str, Any], poll_paths: set[str]) -> bool:
    return rec["method"] == "GET" and _path_only(rec["path"]) in poll_paths


def _body_keys(body: Any) -> tuple[set[str], set[str]]:
    """Top-level keys, and the keys of ``properties`` (with those of ``properties.resource``, where
    Cosmos DB keeps a database's or container's fields, as ``resource.<key>``)."""
    if not isinstance(body, dict):
        return set(), set()
    props = body.get("properties")
    if not isinstance(props, dict):
        return set(body), set()
    keys = set(props)
    resource = props.get("resource")
    if isinstance(resource, dict):
        keys |= {f"resource.{k}" for k in resource}
    return set(body), keys


def _value_differences(rec: dict[str, Any], ours: dict[str, Any], sent: dict[str, Any] | None) -> list[str]:
    """Values a naive client compares: ``type``, ``location``, and every scalar property the client
    itself sent in its last PUT, as the provider returned it (e.g. Redis ``redisVersion`` "6" -> "6.0")."""
    out = [
        f"{key}: recorded {rec[key]!r}, emulator {ours.get(key)!r}"
        for key in ("type", "location")
        if key in rec and rec[key] != ours.get(key)
    ]
    sent_props = (sent or {}).get("properties")
    rec_props, our_props = rec.get("properties"), ours.get("properties")
    if isinstance(sent_props, dict) and isinstance(rec_props, dict) and isinstance(our_props, dict):
        for key, value in rec_props.items():
            if key in sent_props and not isinstance(value, dict | list) and our_props.get(key) != value:
                out.append(f"properties.{key}: recorded {value!r}, emulator {our_props.get(key)!r}")
    return out


class Replayer:
    def __init__(self, arm: ArmEmulatorHandle, subscription: str) -> None:
        self.arm = arm
        self.subscription = subscription
        self.session = ArmHttp(arm).session
        # The last PUT body per resource path: the values a client set, and may compare later.
        self._last_put: dict[str, dict[str, Any]] = {}

    def _follow(self, resp: requests.Response) -> str:
        """Poll the emulator's operation to its end; return its terminal state."""
        urls = _operation_urls(dict(resp.headers), resp.url)
        for _ in range(50):
            if "Azure-AsyncOperation" in urls:
                doc = self.session.get(urls["Azure-AsyncOperation"], timeout=10).json()
                if doc["status"] != "InProgress":
                    return str(doc["status"])
            elif "Location" in urls:
                polled = self.session.get(urls["Location"], timeout=10)
                if polled.status_code != 202:
                    return "Succeeded" if polled.status_code < 400 else "Failed"
            else:
                return "Succeeded" if resp.status_code < 400 else "Failed"
        return "InProgress"

    def _follow_resource(self, resp: requests.Response) -> str:
        """ARM's "201 + provisioningState" pattern (no operation URLs): read the resource until
        it leaves its transient state, as a client does (Redis creates take several reads)."""
        if resp.status_code >= 400 or resp.request.method != "PUT":
            return "Succeeded" if resp.status_code < 400 else "Failed"
        for _ in range(50):
            try:
                state = str(((resp.json() or {}).get("properties") or {}).get("provisioningState") or "")
            except ValueError:
                state = ""
            if state.lower() not in ("creating", "updating", "provisioning", "accepted"):
                return "Failed" if state.lower() == "failed" else "Succeeded"
            resp = self.session.get(resp.url, timeout=10)
        return "InProgress"

    def run(self, path: Path) -> FileResult:
        recs: list[dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))
        poll_paths: set[str] = set()
        outcomes: list[Outcome] = []
        for i, rec in enumerate(recs):
            if _is_poll(rec, poll_paths):
                continue
            poll_paths |= _recorded_operation_paths(rec)
            outcomes.append(self._replay_one(recs, i))
        return FileResult(path.stem, outcomes)

    def _arm_transients(self, recs: list[dict[str, Any]], i: int) -> str | None:
        """Arm a fault for a failure Azure produced transiently here; say which, if any."""
        rec = recs[i]
        method, path = rec["method"], rec["path"]
        # Only throttling (429) and server errors (5xx) are transient by nature. A 4xx such as
        # 400 or 409 is deterministic: the emulator must answer it itself, from its own state.
        later_success = any(
            r["method"] == method and r["path"] == path and r["status"] < 400 for r in recs[i + 1 :]
        )
        if rec["status"] == 429 or rec["status"] >= 500:
            if later_success:
                error = (rec["response_body"] or {}).get("error", {})
                self.arm.control.inject_fault(
                    "^" + re.escape(path.split("?")[0]) + r"(\?|$)",
                    method=method,
                    status=rec["status"],
                    code=error.get("code"),
                    message=error.get("message"),
                )
                return f"{rec['status']} {error.get('code')}"
        elif (
            _lro_headers(rec["response_headers"], RECORDED_HOST + path)
            and _recorded_terminal(recs, i) == "Failed"
            and later_success
        ):
            # An operation that ended Failed and was retried with success: a transient failure.
            error = _recorded_error(recs, i) or {}
            self.arm.control.fail_next_operation(
                _resource_type(path),
                str(error.get("code", "Failed")),
                str(error.get("message", "")),
                method=method,
            )
            return f"operation Failed {error.get('code')}"
        return None

    def _replay_one(self, recs: list[dict[str, Any]], i: int) -> Outcome:
        rec = recs[i]
        method, path = rec["method"], rec["path"]
        outcome = Outcome(i, method, path.split("?")[0], ok=True)
        outcome.injected = self._arm_transients(recs, i)
        body = rec["request_body"]
        if method == "PUT" and isinstance(body, dict):
            self._last_put[outcome.path.lower()] = body
        resp = self.session.request(
            method,
            self.arm.endpoint + path,
            data=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json"} if body is not None else {},
            timeout=10,
        )
        problems = outcome.problems
        rec_lro = _lro_headers(rec["response_headers"], RECORDED_HOST + path)
        our_lro = _lro_headers(dict(resp.headers), resp.url)
        if rec_lro or our_lro:
            if rec_lro != our_lro:
                problems.append(
                    f"LRO pattern: recorded {rec['status']} {sorted(rec_lro)}, "
                    f"emulator {resp.status_code} {sorted(our_lro)}"
                )
            elif not _same_status(method, rec["status"], resp.status_code):
                problems.append(f"status: recorded {rec['status']}, emulator {resp.status_code}")
            recorded_end = _recorded_terminal(recs, i)
            our_end = self._follow(resp) if our_lro else ("Succeeded" if resp.status_code < 400 else "Failed")
            if recorded_end is not None:
                outcome.terminal = recorded_end
            if recorded_end is not None and recorded_end != our_end:
                problems.append(f"terminal state: recorded {recorded_end}, emulator {our_end}")
        else:
            if not _same_status(method, rec["status"], resp.status_code):
                problems.append(f"status: recorded {rec['status']}, emulator {resp.status_code}")
            # The recording's reads of a resource being created were condensed to the first and
            # last; read ours until it is done, as the recorded client did.
            self._follow_resource(resp)
        rec_body = rec["response_body"]
        our_body: Any = None
        if resp.content:
            try:
                our_body = resp.json()
            except ValueError:
                our_body = None
        if rec["status"] >= 400:
            rec_code = (rec_body or {}).get("error", {}).get("code")
            our_code = (our_body or {}).get("error", {}).get("code") if isinstance(our_body, dict) else None
            if rec_code != our_code:
                problems.append(f"error code: recorded {rec_code}, emulator {our_code}")
            else:
                rec_msg = _plain_message((rec_body or {}).get("error", {}).get("message"))
                our_msg = _plain_message(
                    (our_body or {}).get("error", {}).get("message") if isinstance(our_body, dict) else None
                )
                if rec_msg != our_msg:
                    problems.append(f"error message: recorded {rec_msg!r}, emulator {our_msg!r}")
        elif isinstance(rec_body, dict) and "id" in rec_body and rec["status"] in (200, 201):
            rec_top, rec_props = _body_keys(rec_body)
            our_top, our_props = _body_keys(our_body)
            missing = sorted(rec_top - our_top) + sorted(f"properties.{k}" for k in rec_props - our_props)
            if missing:
                problems.append(f"keys missing: {missing}")
            # A GET must show exactly the recorded keys; a PUT answer may carry more than Azure's
            # (Azure often answers a PUT with a slimmer body than the following GET).
            extra = sorted(our_top - rec_top) + sorted(f"properties.{k}" for k in our_props - rec_props)
            if extra and method == "GET":
                problems.append(f"keys not in the recording: {extra}")
            if method == "GET" and isinstance(our_body, dict):
                problems += _value_differences(rec_body, our_body, self._last_put.get(outcome.path.lower()))
        outcome.ok = not problems
        return outcome
