"""Server-side Table output (``Accept: application/json;as=Table;g=meta.k8s.io;v=v1``).

kubectl's human output is whatever the server puts in the Table: for custom resources the Name
column plus ``additionalPrinterColumns`` (Age when there are none), for built-in kinds the
columns ``kubectl get`` shows on a real cluster.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from . import jsonpath
from .model import Column, ResourceType, Version

Json = dict[str, Any]

_NAME_COLUMN = Column(
    name="Name",
    type="string",
    format="name",
    json_path=".metadata.name",
    description="Name must be unique within a namespace.",
)
_AGE_COLUMN = Column(
    name="Age",
    type="date",
    json_path=".metadata.creationTimestamp",
    description="CreationTimestamp is a timestamp representing the server time when this object was created.",
)


def human_duration(seconds: float) -> str:
    """Kubernetes' short age format: 45s, 3m12s, 2h5m, 4d3h, 1y20d."""
    if seconds < -1:
        return "<invalid>"
    s = max(int(seconds), 0)
    minutes, hours, days = s // 60, s // 3600, s // 86400
    if s < 120:
        return f"{s}s"
    if minutes < 10:
        return f"{minutes}m{s % 60}s" if s % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    if years < 8:
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{years}y"


def _age(timestamp: Any) -> str | None:
    if not isinstance(timestamp, str) or not timestamp:
        return None
    try:
        when = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return human_duration((datetime.now(UTC) - when).total_seconds())


def columns_for(rt: ResourceType, version: Version) -> list[Column]:
    if rt.builtin:
        return list(version.columns)
    return [_NAME_COLUMN, *(version.columns or (_AGE_COLUMN,))]


def _special(obj: Json, path: str) -> Any:
    """Computed cells of built-in kinds that are not plain JSONPath."""
    if path.startswith("#count("):
        fields = path[len("#count(") : -1].split(",")
        return sum(len(obj.get(f.strip().lstrip("."), None) or {}) for f in fields)
    if path == "#lastseen":
        return _age(
            obj.get("lastTimestamp")
            or obj.get("eventTime")
            or obj.get("metadata", {}).get("creationTimestamp")
        )
    if path == "#involved":
        ref = obj.get("involvedObject") or {}
        return f"{str(ref.get('kind', '')).lower()}/{ref.get('name', '')}"
    return None


def cell(obj: Json, column: Column) -> Any:
    if column.json_path.startswith("#"):
        return _special(obj, column.json_path)
    try:
        values = jsonpath.evaluate(obj, column.json_path)
    except ValueError:
        return None
    if not values or values[0] is None:
        return None
    # Like the real convertor: the first match only, typed by the column's declared type.
    value = values[0]
    if column.type == "date":
        return _age(value) or "<invalid>" if isinstance(value, str) else None
    if column.type == "string":
        return value if isinstance(value, str) else json.dumps(value)
    if column.type == "integer":
        return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if column.type == "number":
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    if column.type == "boolean":
        return value if isinstance(value, bool) else None
    return None


def _row_object(obj: Json, include: str) -> Json | None:
    if include == "None":
        return None
    if include == "Object":
        return obj
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def table(
    rt: ResourceType,
    version: Version,
    objects: list[Json],
    *,
    include_object: str = "Metadata",
    list_meta: Json | None = None,
    headers: bool = True,
) -> Json:
    columns = columns_for(rt, version)
    rows = []
    for obj in objects:
        row: Json = {"cells": [cell(obj, c) for c in columns]}
        included = _row_object(obj, include_object)
        if included is not None:
            row["object"] = included
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": list_meta or {},
        "columnDefinitions": [
            {
                "name": c.name,
                "type": c.type,
                "format": c.format,
                "description": c.description,
                "priority": c.priority,
            }
            for c in columns
        ]
        if headers
        else [],
        "rows": rows,
    }
