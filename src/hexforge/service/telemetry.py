"""Tracing (SPEC §13): FastAPI and psycopg spans, exported over OTLP.

Only with the project's ``otel`` extra installed and ``OTEL_EXPORTER_OTLP_ENDPOINT``
set; otherwise nothing is imported and nothing changes. The exporter reads the
standard ``OTEL_*`` variables itself (endpoint, headers, service name).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from fastapi import FastAPI

log = logging.getLogger("hexforge.service")

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"


def instrument_from_environment(app: FastAPI) -> None:
    if not os.environ.get(ENDPOINT):
        return
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        log.warning(
            "%s is set but the otel extra is not installed (pip install '.[otel]'): "
            "no spans are exported",
            ENDPOINT,
        )
        return
    instrument(app, OTLPSpanExporter())


def instrument(app: FastAPI, exporter: Any) -> Any:
    """Export the spans of ``app``'s requests and of psycopg's queries to ``exporter``;
    returns the tracer provider (tests flush it)."""
    from opentelemetry import trace
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": app.title}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    PsycopgInstrumentor().instrument(tracer_provider=provider, enable_commenter=False)
    return provider
