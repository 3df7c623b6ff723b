"""What the server knows about a kind of object: names, scope, versions, schemas, columns.

Built-in kinds are declared in :mod:`.builtin`; every CustomResourceDefinition becomes one
:class:`ResourceType` through :func:`from_crd`. Everything else in the server is generic over
this description.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import errors

Json = dict[str, Any]
TypeKey = tuple[str, str]  # (group, plural)


@dataclass(frozen=True, kw_only=True)
class Column:
    """One printer column (``additionalPrinterColumns`` or a built-in kind's default column)."""

    name: str
    type: str
    json_path: str
    format: str = ""
    description: str = ""
    priority: int = 0


@dataclass(frozen=True, kw_only=True)
class ScaleSpec:
    """``subresources.scale`` of a CRD version: simple JSON paths into the object."""

    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


@dataclass(frozen=True, kw_only=True)
class Version:
    name: str
    served: bool = True
    storage: bool = False
    schema: Json | None = None  # structural openAPIV3Schema; None means anything goes
    columns: tuple[Column, ...] = ()
    status_subresource: bool = False
    scale: ScaleSpec | None = None


@dataclass(frozen=True, kw_only=True)
class Conversion:
    strategy: str = "None"  # "None" or "Webhook"
    url: str | None = None
    service: Json | None = None  # {namespace, name, path, port} as in the CRD
    ca_bundle: str | None = None  # base64 PEM, as in the CRD
    review_versions: tuple[str, ...] = ("v1",)


@dataclass(frozen=True, kw_only=True)
class ResourceType:
    group: str
    plural: str
    singular: str
    kind: str
    list_kind: str
    namespaced: bool
    versions: tuple[Version, ...]
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )
    builtin: bool = False
    conversion: Conversion = field(default_factory=Conversion)
    # Field selectors beyond metadata.name/metadata.namespace, e.g. involvedObject.uid on events.
    field_selectors: tuple[str, ...] = ()
    # Strategic merge patch list keys by dotted path ("" for primitive lists merged as sets).
    merge_keys: tuple[tuple[str, str], ...] = ()
    # Kinds whose objects carry metadata.generation (CRs, CRDs).
    has_generation: bool = False

    @property
    def key(self) -> TypeKey:
        return (self.group, self.plural)

    @property
    def storage_version(self) -> str:
        return next(v.name for v in self.versions if v.storage)

    def version(self, name: str) -> Version | None:
        return next((v for v in self.versions if v.name == name and v.served), None)

    def api_version(self, version: str) -> str:
        return f"{self.group}/{version}" if self.group else version

    @property
    def served_versions(self) -> list[Version]:
        return [v for v in self.versions if v.served]

    @property
    def resource_name(self) -> str:
        """``plural.group`` as error messages name it (just ``plural`` for the core group)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


def _invalid_crd(name: str, causes: list[errors.Cause]) -> errors.ApiError:
    return errors.invalid_object("CustomResourceDefinition", "apiextensions.k8s.io", name, causes)


def _columns(raw: list[Json]) -> tuple[Column, ...]:
    return tuple(
        Column(
            name=c["name"],
            type=c.get("type", "string"),
            json_path=c["jsonPath"],
            format=c.get("format", ""),
            description=c.get("description", ""),
            priority=int(c.get("priority", 0)),
        )
        for c in raw
    )


def _scale(raw: Any, where: str, causes: list[errors.Cause]) -> ScaleSpec | None:
    """The scale subresource, its paths checked as the API server checks them."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        causes.append(errors.invalid(where, raw, "must be an object"))
        return None
    paths: dict[str, str | None] = {}
    for key, under, required in (
        ("specReplicasPath", (".spec.",), True),
        ("statusReplicasPath", (".status.",), True),
        ("labelSelectorPath", (".spec.", ".status."), False),
    ):
        value = raw.get(key)
        if value is None or value == "":
            if required:
                causes.append(errors.required(f"{where}.{key}"))
            paths[key] = None
            continue
        simple = isinstance(value, str) and all(step for step in value.lstrip(".").split("."))
        if not simple or "[" in value or not value.startswith(under):
            places = " or ".join(u.rstrip(".") for u in under)
            causes.append(errors.invalid(f"{where}.{key}", value, f"should be a json path under {places}"))
            paths[key] = None
            continue
        paths[key] = value
    if paths["specReplicasPath"] is None or paths["statusReplicasPath"] is None:
        return None
    return ScaleSpec(
        spec_replicas_path=paths["specReplicasPath"],
        status_replicas_path=paths["statusReplicasPath"],
        label_selector_path=paths["labelSelectorPath"],
    )


def from_crd(crd: Json) -> ResourceType:
    """Turn an apiextensions.k8s.io/v1 CRD into a ResourceType, or raise 422 naming what is wrong."""
    name = crd.get("metadata", {}).get("name", "")
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    causes: list[errors.Cause] = []
    group = spec.get("group") or ""
    plural = names.get("plural") or ""
    kind = names.get("kind") or ""
    if not group:
        causes.append(errors.required("spec.group"))
    if not plural:
        causes.append(errors.required("spec.names.plural"))
    if not kind:
        causes.append(errors.required("spec.names.kind"))
    if group and plural and name != f"{plural}.{group}":
        causes.append(errors.invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group'))
    scope = spec.get("scope")
    if scope not in ("Namespaced", "Cluster"):
        causes.append(errors.not_supported("spec.scope", scope, ["Cluster", "Namespaced"]))
    raw_versions = spec.get("versions") or []
    if not raw_versions:
        causes.append(errors.required("spec.versions"))
    storage = [v for v in raw_versions if v.get("storage")]
    if raw_versions and len(storage) != 1:
        causes.append(
            errors.invalid(
                "spec.versions", len(storage), "must have exactly one version marked as storage version"
            )
        )
    top_columns = spec.get("additionalPrinterColumns") or []
    top_schema = (spec.get("validation") or {}).get("openAPIV3Schema")
    versions: list[Version] = []
    for i, v in enumerate(raw_versions):
        if not v.get("name"):
            causes.append(errors.required(f"spec.versions[{i}].name"))
            continue
        schema = (v.get("schema") or {}).get("openAPIV3Schema") or top_schema
        if schema is not None and not isinstance(schema, dict):
            causes.append(
                errors.invalid(f"spec.versions[{i}].schema.openAPIV3Schema", schema, "must be an object")
            )
            schema = None
        subresources = v.get("subresources") or spec.get("subresources") or {}
        scale = _scale(subresources.get("scale"), f"spec.versions[{i}].subresources.scale", causes)
        versions.append(
            Version(
                name=v["name"],
                served=bool(v.get("served", True)),
                storage=bool(v.get("storage")),
                schema=schema,
                columns=_columns(v.get("additionalPrinterColumns") or top_columns),
                status_subresource="status" in subresources,
                scale=scale,
            )
        )
    conv = spec.get("conversion") or {}
    strategy = conv.get("strategy", "None")
    conversion = Conversion()
    if strategy == "Webhook":
        webhook = conv.get("webhook") or {}
        client = webhook.get("clientConfig") or conv.get("webhookClientConfig") or {}
        if not client.get("url") and not client.get("service"):
            causes.append(errors.required("spec.conversion.webhook.clientConfig"))
        conversion = Conversion(
            strategy="Webhook",
            url=client.get("url"),
            service=client.get("service"),
            ca_bundle=client.get("caBundle"),
            review_versions=tuple(
                webhook.get("conversionReviewVersions") or conv.get("conversionReviewVersions") or ["v1"]
            ),
        )
    elif strategy != "None":
        causes.append(errors.not_supported("spec.conversion.strategy", strategy, ["None", "Webhook"]))
    if causes:
        raise _invalid_crd(name, causes)
    return ResourceType(
        group=group,
        plural=plural,
        singular=names.get("singular") or kind.lower(),
        kind=kind,
        list_kind=names.get("listKind") or f"{kind}List",
        namespaced=scope == "Namespaced",
        versions=tuple(versions),
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        conversion=conversion,
        field_selectors=tuple(
            f["jsonPath"].lstrip(".") for v in raw_versions for f in (v.get("selectableFields") or [])
        ),
        has_generation=True,
    )
