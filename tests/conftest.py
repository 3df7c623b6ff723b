"""Shared setup of the cross-package tests: the test-only plugin and the conformance data."""

from __future__ import annotations

import pathlib
import sys
from typing import Any

import pytest

from aso.host import Registry, load_registry

REPO = pathlib.Path(__file__).resolve().parents[1]
TESTKINDS = REPO / "tests" / "testkinds"
if str(TESTKINDS) not in sys.path:
    sys.path.insert(0, str(TESTKINDS))

#: ../shared/conformance beside the repository (CI lays shared/ beside its clone the same way).
CONFORMANCE = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


@pytest.fixture(scope="session")
def conformance() -> pathlib.Path:
    assert CONFORMANCE.is_dir(), f"conformance data not found at {CONFORMANCE}"
    return CONFORMANCE


@pytest.fixture(scope="session")
def registry() -> Registry:
    """The installed plugins plus the test-only kinds, registered in-process."""
    from aso_testkinds import plugin

    return load_registry(extra_plugins=[("testkinds", plugin)])


# The operator's end-to-end fixtures (tests/operator, tests/reliability); tests/kube overrides kube_crds.


@pytest.fixture
def kube_crds(conversion_webhook: Any) -> list[Any]:
    """The committed CRDs and the test kind's, converting through the test's operator: every kind
    is stored at its storage version, so every write at a served version needs the webhook."""
    import yaml
    from aso_testkinds.plugin import WIDGET

    from aso.sandbox.runner import point_webhook
    from aso.testing import kind_crd

    committed = [
        point_webhook(yaml.safe_load(path.read_text()), conversion_webhook.url, conversion_webhook.ca_pem)
        for path in sorted((REPO / "crds").glob("*.yaml"))
    ]
    return [*committed, kind_crd(WIDGET, conversion_webhook)]


@pytest.fixture
def operator_plugins(tmp_path: pathlib.Path) -> Any:
    from aso.testing.operator import plugin_path

    return plugin_path(tmp_path / "site", {"testkinds": "aso_testkinds.plugin"}, [TESTKINDS])


@pytest.fixture
def k8s(kube_api: Any) -> Any:
    from aso.testing import ensure_namespace

    ensure_namespace(kube_api, "default")
    return kube_api


@pytest.fixture
def conversion_only(conversion_webhook: Any, registry: Registry) -> Any:
    """aso's conversion webhook alone (no operator) where the test's operator would serve it, for
    tests that only write objects: every write at a served version converts. Do not start
    ``aso_operator`` in the same test (it would serve the same port)."""
    import ssl

    from aiohttp import web

    from aso.common import LoopThread
    from aso.conversion import conversion_app

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(conversion_webhook.cert), str(conversion_webhook.key))
    runner = web.AppRunner(conversion_app(registry))

    async def setup() -> None:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", conversion_webhook.port, ssl_context=context).start()

    thread = LoopThread("conversion-webhook", setup, runner.cleanup)
    thread.start(10)
    yield conversion_webhook
    thread.stop(10)
