"""Prometheus metrics of the operator, served on ``/metrics``."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ARM_REQUESTS = Counter(
    "aso_arm_requests_total",
    "ARM requests sent, by HTTP method, ARM resource type and status code",
    ["method", "resource_type", "code"],
)
ARM_LATENCY = Histogram(
    "aso_arm_request_duration_seconds",
    "Latency of ARM requests",
    ["method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RECONCILES = Counter("aso_reconciles_total", "Reconciles by kind and result", ["kind", "result"])
OBJECTS_READY = Gauge("aso_objects", "Objects by kind and Ready status", ["kind", "ready"])
LEADER = Gauge("aso_leader", "1 while this process holds its shard's Lease (or runs without leader election)")
