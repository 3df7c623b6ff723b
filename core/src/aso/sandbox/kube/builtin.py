"""The built-in kinds an operator and kubectl touch, with schemas just deep enough to prune.

The real API server decodes built-in objects into Go structs, which drops unknown fields; these
structural schemas give the same effect through the generic pruning walker. Nested structures
nobody here validates are ``x-kubernetes-preserve-unknown-fields``.
"""

from __future__ import annotations

from typing import Any

from .model import Column, ResourceType, Version

Json = dict[str, Any]

_STR: Json = {"type": "string"}
_INT: Json = {"type": "integer"}
_BOOL: Json = {"type": "boolean"}
_STR_MAP: Json = {"type": "object", "additionalProperties": {"type": "string"}}
_ANY: Json = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

OWNER_REFERENCE: Json = {
    "type": "object",
    "required": ["apiVersion", "kind", "name", "uid"],
    "properties": {
        "apiVersion": _STR,
        "kind": _STR,
        "name": _STR,
        "uid": _STR,
        "controller": _BOOL,
        "blockOwnerDeletion": _BOOL,
    },
}

OBJECT_META: Json = {
    "type": "object",
    "properties": {
        "name": _STR,
        "generateName": _STR,
        "namespace": _STR,
        "selfLink": _STR,
        "uid": _STR,
        "resourceVersion": _STR,
        "generation": _INT,
        "creationTimestamp": {"type": "string", "nullable": True},
        "deletionTimestamp": {"type": "string", "nullable": True},
        "deletionGracePeriodSeconds": _INT,
        "labels": _STR_MAP,
        "annotations": _STR_MAP,
        "ownerReferences": {"type": "array", "items": OWNER_REFERENCE},
        "finalizers": {"type": "array", "items": _STR},
        "managedFields": {"type": "array", "items": _ANY},
    },
}


def _object(**properties: Json) -> Json:
    return {
        "type": "object",
        "properties": {"apiVersion": _STR, "kind": _STR, "metadata": {"type": "object"}, **properties},
    }


_AGE = Column(name="Age", type="date", json_path=".metadata.creationTimestamp")
_NAME = Column(name="Name", type="string", format="name", json_path=".metadata.name")
_META_MERGE = (("metadata.ownerReferences", "uid"), ("metadata.finalizers", ""))


def _builtin(
    *,
    group: str,
    version: str,
    plural: str,
    kind: str,
    namespaced: bool,
    schema: Json,
    columns: tuple[Column, ...] = (),
    short_names: tuple[str, ...] = (),
    field_selectors: tuple[str, ...] = (),
    verbs: tuple[str, ...] | None = None,
    has_generation: bool = False,
    status_subresource: bool = False,
) -> ResourceType:
    extra: dict[str, Any] = {"verbs": verbs} if verbs else {}
    return ResourceType(
        group=group,
        plural=plural,
        singular=kind.lower(),
        kind=kind,
        list_kind=f"{kind}List",
        namespaced=namespaced,
        versions=(
            Version(
                name=version,
                storage=True,
                schema=schema,
                columns=columns,
                status_subresource=status_subresource,
            ),
        ),
        short_names=short_names,
        builtin=True,
        field_selectors=field_selectors,
        merge_keys=_META_MERGE,
        has_generation=has_generation,
        **extra,
    )


NAMESPACES = _builtin(
    group="",
    version="v1",
    plural="namespaces",
    kind="Namespace",
    namespaced=False,
    schema=_object(
        spec={"type": "object", "properties": {"finalizers": {"type": "array", "items": _STR}}},
        status={
            "type": "object",
            "properties": {"phase": _STR, "conditions": {"type": "array", "items": _ANY}},
        },
    ),
    columns=(_NAME, Column(name="Status", type="string", json_path=".status.phase"), _AGE),
    short_names=("ns",),
    field_selectors=("status.phase",),
    verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    status_subresource=True,
)

CONFIGMAPS = _builtin(
    group="",
    version="v1",
    plural="configmaps",
    kind="ConfigMap",
    namespaced=True,
    schema=_object(data=_STR_MAP, binaryData=_STR_MAP, immutable=_BOOL),
    columns=(_NAME, Column(name="Data", type="integer", json_path="#count(.data,.binaryData)"), _AGE),
    short_names=("cm",),
)

SECRETS = _builtin(
    group="",
    version="v1",
    plural="secrets",
    kind="Secret",
    namespaced=True,
    schema=_object(data=_STR_MAP, stringData=_STR_MAP, type=_STR, immutable=_BOOL),
    columns=(
        _NAME,
        Column(name="Type", type="string", json_path=".type"),
        Column(name="Data", type="integer", json_path="#count(.data)"),
        _AGE,
    ),
    field_selectors=("type",),
)

_OBJECT_REFERENCE: Json = {
    "type": "object",
    "properties": {
        "kind": _STR,
        "namespace": _STR,
        "name": _STR,
        "uid": _STR,
        "apiVersion": _STR,
        "resourceVersion": _STR,
        "fieldPath": _STR,
    },
}

EVENTS = _builtin(
    group="",
    version="v1",
    plural="events",
    kind="Event",
    namespaced=True,
    schema=_object(
        involvedObject=_OBJECT_REFERENCE,
        reason=_STR,
        message=_STR,
        source={"type": "object", "properties": {"component": _STR, "host": _STR}},
        firstTimestamp={"type": "string", "nullable": True},
        lastTimestamp={"type": "string", "nullable": True},
        count=_INT,
        type=_STR,
        eventTime={"type": "string", "nullable": True},
        series=_ANY,
        action=_STR,
        related=_OBJECT_REFERENCE,
        reportingComponent=_STR,
        reportingInstance=_STR,
    ),
    columns=(
        Column(name="Last Seen", type="string", json_path="#lastseen"),
        Column(name="Type", type="string", json_path=".type"),
        Column(name="Reason", type="string", json_path=".reason"),
        Column(name="Object", type="string", json_path="#involved"),
        Column(name="Message", type="string", json_path=".message"),
    ),
    short_names=("ev",),
    field_selectors=(
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
)

SERVICE_ACCOUNTS = _builtin(
    group="",
    version="v1",
    plural="serviceaccounts",
    kind="ServiceAccount",
    namespaced=True,
    schema=_object(
        secrets={"type": "array", "items": _ANY},
        imagePullSecrets={"type": "array", "items": _ANY},
        automountServiceAccountToken=_BOOL,
    ),
    columns=(_NAME, _AGE),
    short_names=("sa",),
)

# kubectl describe namespace lists these two; nobody here creates them.
RESOURCE_QUOTAS = _builtin(
    group="",
    version="v1",
    plural="resourcequotas",
    kind="ResourceQuota",
    namespaced=True,
    schema=_object(spec=_ANY, status=_ANY),
    columns=(_NAME, _AGE),
    short_names=("quota",),
    status_subresource=True,
)

LIMIT_RANGES = _builtin(
    group="",
    version="v1",
    plural="limitranges",
    kind="LimitRange",
    namespaced=True,
    schema=_object(spec=_ANY),
    columns=(_NAME, _AGE),
    short_names=("limits",),
)

LEASES = _builtin(
    group="coordination.k8s.io",
    version="v1",
    plural="leases",
    kind="Lease",
    namespaced=True,
    schema=_object(
        spec={
            "type": "object",
            "properties": {
                "holderIdentity": {"type": "string", "nullable": True},
                "leaseDurationSeconds": {"type": "integer", "nullable": True},
                "acquireTime": {"type": "string", "nullable": True},
                "renewTime": {"type": "string", "nullable": True},
                "leaseTransitions": {"type": "integer", "nullable": True},
                "strategy": _STR,
                "preferredHolder": _STR,
            },
        }
    ),
    columns=(_NAME, Column(name="Holder", type="string", json_path=".spec.holderIdentity"), _AGE),
)

CRDS = _builtin(
    group="apiextensions.k8s.io",
    version="v1",
    plural="customresourcedefinitions",
    kind="CustomResourceDefinition",
    namespaced=False,
    schema=_object(spec=_ANY, status=_ANY),
    columns=(_NAME, Column(name="Created At", type="date", json_path=".metadata.creationTimestamp")),
    short_names=("crd", "crds"),
    has_generation=True,
    status_subresource=True,
)

# What a Helm chart of an operator creates. Stored, listed, patched and deleted as on a real
# cluster (no controller runs them); the fields a real server requires are required here too.
_LABEL_SELECTOR: Json = {
    "type": "object",
    "properties": {"matchLabels": _STR_MAP, "matchExpressions": {"type": "array", "items": _ANY}},
}

DEPLOYMENTS = _builtin(
    group="apps",
    version="v1",
    plural="deployments",
    kind="Deployment",
    namespaced=True,
    schema=_object(
        spec={
            "type": "object",
            "required": ["selector", "template"],
            "properties": {
                "replicas": _INT,
                "selector": _LABEL_SELECTOR,
                "template": _ANY,
                "strategy": _ANY,
                "minReadySeconds": _INT,
                "revisionHistoryLimit": _INT,
                "paused": _BOOL,
                "progressDeadlineSeconds": _INT,
            },
        },
        status=_ANY,
    ),
    columns=(_NAME, _AGE),
    short_names=("deploy",),
    has_generation=True,
    status_subresource=True,
)

SERVICES = _builtin(
    group="",
    version="v1",
    plural="services",
    kind="Service",
    namespaced=True,
    schema=_object(
        spec={
            "type": "object",
            "x-kubernetes-preserve-unknown-fields": True,
            "properties": {
                "type": _STR,
                "selector": _STR_MAP,
                "ports": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["port"],
                        "x-kubernetes-preserve-unknown-fields": True,
                        "properties": {"name": _STR, "port": _INT, "protocol": _STR},
                    },
                },
            },
        },
        status=_ANY,
    ),
    columns=(_NAME, Column(name="Type", type="string", json_path=".spec.type"), _AGE),
    short_names=("svc",),
    status_subresource=True,
)

PDBS = _builtin(
    group="policy",
    version="v1",
    plural="poddisruptionbudgets",
    kind="PodDisruptionBudget",
    namespaced=True,
    schema=_object(
        spec={
            "type": "object",
            "properties": {
                "minAvailable": {"x-kubernetes-int-or-string": True},
                "maxUnavailable": {"x-kubernetes-int-or-string": True},
                "selector": _LABEL_SELECTOR,
                "unhealthyPodEvictionPolicy": _STR,
            },
        },
        status=_ANY,
    ),
    columns=(_NAME, _AGE),
    short_names=("pdb",),
    has_generation=True,
    status_subresource=True,
)

_RULES: Json = {"type": "array", "items": _ANY}
_ROLE_REF: Json = {
    "type": "object",
    "required": ["apiGroup", "kind", "name"],
    "properties": {"apiGroup": _STR, "kind": _STR, "name": _STR},
}
_SUBJECTS: Json = {"type": "array", "items": _ANY}


def _rbac(plural: str, kind: str, namespaced: bool, schema: Json) -> ResourceType:
    return _builtin(
        group="rbac.authorization.k8s.io",
        version="v1",
        plural=plural,
        kind=kind,
        namespaced=namespaced,
        schema=schema,
        columns=(_NAME, _AGE),
    )


ROLES = _rbac("roles", "Role", True, _object(rules=_RULES))
CLUSTER_ROLES = _rbac("clusterroles", "ClusterRole", False, _object(rules=_RULES, aggregationRule=_ANY))
ROLE_BINDINGS = _rbac(
    "rolebindings",
    "RoleBinding",
    True,
    {**_object(roleRef=_ROLE_REF, subjects=_SUBJECTS), "required": ["roleRef"]},
)
CLUSTER_ROLE_BINDINGS = _rbac(
    "clusterrolebindings",
    "ClusterRoleBinding",
    False,
    {**_object(roleRef=_ROLE_REF, subjects=_SUBJECTS), "required": ["roleRef"]},
)

BUILTIN_TYPES: tuple[ResourceType, ...] = (
    NAMESPACES,
    CONFIGMAPS,
    SECRETS,
    EVENTS,
    SERVICE_ACCOUNTS,
    RESOURCE_QUOTAS,
    LIMIT_RANGES,
    LEASES,
    CRDS,
    DEPLOYMENTS,
    SERVICES,
    PDBS,
    ROLES,
    CLUSTER_ROLES,
    ROLE_BINDINGS,
    CLUSTER_ROLE_BINDINGS,
)

DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
