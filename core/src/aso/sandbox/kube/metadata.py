"""Object metadata validation: names, labels, annotations and owner references.

The rules and messages of apimachinery's ``ValidateObjectMeta`` (``pkg/api/validation/objectmeta.go``,
``pkg/apis/meta/v1/validation``, ``pkg/util/validation``), as a v1.32 API server answers them: each
broken rule is one cause, so a value both too long and malformed gets two, as in Kubernetes.
"""

from __future__ import annotations

import re
from typing import Any

from . import builtin, errors
from .errors import Cause
from .model import ResourceType

Json = dict[str, Any]

#: ``TotalAnnotationSizeLimitB``: keys and values of all annotations together, in bytes.
ANNOTATIONS_SIZE_LIMIT = 256 * 1024

_LABEL_MAX = 63
_SUBDOMAIN_MAX = 253

_DNS_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN_FMT = _DNS_LABEL_FMT + "(\\." + _DNS_LABEL_FMT + ")*"
_QUALIFIED_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_FMT + ")?"

_DNS_LABEL = re.compile(f"^{_DNS_LABEL_FMT}$")
_DNS_SUBDOMAIN = re.compile(f"^{_DNS_SUBDOMAIN_FMT}$")
_QUALIFIED = re.compile(f"^{_QUALIFIED_FMT}$")
_LABEL_VALUE = re.compile(f"^{_LABEL_VALUE_FMT}$")

_QUALIFIED_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_EXAMPLES = ("MyName", "my.name", "123-abc")


def _regex_error(msg: str, fmt: str, *examples: str) -> str:
    """``RegexError``: the message, its examples (Kubernetes' spacing included) and the regex."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {shown}regex used for validation is '{fmt}')"


def _max_len(limit: int) -> str:
    return f"must be no more than {limit} characters"


def dns1123_label(value: str) -> list[str]:
    errs = [_max_len(_LABEL_MAX)] if len(value) > _LABEL_MAX else []
    if not _DNS_LABEL.match(value):
        if _DNS_SUBDOMAIN.match(value):
            errs.append("must not contain dots")
        else:
            errs.append(
                _regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                    "and must start and end with an alphanumeric character",
                    _DNS_LABEL_FMT,
                    "my-name",
                    "123-abc",
                )
            )
    return errs


def dns1123_subdomain(value: str) -> list[str]:
    errs = [_max_len(_SUBDOMAIN_MAX)] if len(value) > _SUBDOMAIN_MAX else []
    if not _DNS_SUBDOMAIN.match(value):
        errs.append(
            _regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
                "or '.', and must start and end with an alphanumeric character",
                _DNS_SUBDOMAIN_FMT,
                "example.com",
            )
        )
    return errs


def qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: an optional DNS-subdomain prefix and ``/``, then a name of at most 63."""
    parts = value.split("/")
    errs: list[str] = []
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs += ["prefix part " + msg for msg in dns1123_subdomain(prefix)]
    else:
        return [
            "a qualified name "
            + _regex_error(_QUALIFIED_MSG, _QUALIFIED_FMT, *_EXAMPLES)
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > _LABEL_MAX:
        errs.append("name part " + _max_len(_LABEL_MAX))
    if not _QUALIFIED.match(name):
        errs.append("name part " + _regex_error(_QUALIFIED_MSG, _QUALIFIED_FMT, *_EXAMPLES))
    return errs


def label_value(value: str) -> list[str]:
    errs = [_max_len(_LABEL_MAX)] if len(value) > _LABEL_MAX else []
    if not _LABEL_VALUE.match(value):
        errs.append(
            _regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                "'.', and must start and end with an alphanumeric character",
                _LABEL_VALUE_FMT,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


def annotations_size(annotations: Json) -> int:
    """Bytes of every key and value, as ``ValidateAnnotationsSize`` counts them."""
    return sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())


def validate_metadata(rt: ResourceType, meta: Json) -> list[Cause]:
    causes: list[Cause] = []
    name = meta.get("name", "")
    if rt.key == builtin.NAMESPACES.key:
        causes += [errors.invalid("metadata.name", name, msg) for msg in dns1123_label(name)]
    elif rt.key != builtin.EVENTS.key:
        causes += [errors.invalid("metadata.name", name, msg) for msg in dns1123_subdomain(name)]
    for key, value in (meta.get("labels") or {}).items():
        causes += [errors.invalid("metadata.labels", key, msg) for msg in qualified_name(key)]
        if not isinstance(value, str):
            causes.append(errors.type_invalid("metadata.labels", value, "must be of type string"))
            continue
        causes += [errors.invalid("metadata.labels", value, msg) for msg in label_value(value)]
    annotations = meta.get("annotations") or {}
    for key in annotations:
        # Annotation keys are qualified names in any case: Kubernetes lower-cases them to check.
        causes += [errors.invalid("metadata.annotations", key, msg) for msg in qualified_name(key.lower())]
    if annotations_size(annotations) > ANNOTATIONS_SIZE_LIMIT:
        causes.append(errors.too_long_bytes("metadata.annotations", ANNOTATIONS_SIZE_LIMIT))
    for i, ref in enumerate(meta.get("ownerReferences") or []):
        for required in ("apiVersion", "kind", "name", "uid"):
            if not ref.get(required):
                causes.append(errors.required(f"metadata.ownerReferences[{i}].{required}"))
    return causes
