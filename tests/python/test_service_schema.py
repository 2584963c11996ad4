"""A schema-driven fuzz run (schemathesis) over the service's OpenAPI schema, against a real
uvicorn serving live books from the simulator: no generated request gets a 5xx, and every
response matches the schema (status code declared, content type, body). A bounded number of
examples per operation keeps the run under a minute."""

from __future__ import annotations

import pytest

pytest.importorskip("aiohttp")
pytest.importorskip("ccxt.pro")
pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")
httpx = pytest.importorskip("httpx")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from schemathesis.checks import (content_type_conformance, not_a_server_error,  # noqa: E402
                                 response_schema_conformance, status_code_conformance)

from netguard import no_internet  # noqa: E402,F401  (the autouse no-internet guard)
from test_service_api import running  # noqa: E402

EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_fuzzed_requests_get_no_5xx_and_match_the_schema(tmp_path):
    from liqcore.store import open_store

    store = open_store(str(tmp_path / "fuzz.db"))
    try:
        with running(store=store, rate=None) as srv:
            with httpx.Client(base_url=srv.url, timeout=30) as c:
                # some live books, so generated requests also hit the happy paths
                c.post("/api/v1/compare-exchanges", json={"symbol": "BTC/USDT"}).raise_for_status()
                raw = c.get("/openapi.json").json()
            schema = schemathesis.openapi.from_dict(raw)
            operations = [op.ok() for op in schema.get_all_operations()]
            assert len(operations) == 11
            for op in operations:
                @given(case=op.as_strategy())
                @settings(max_examples=EXAMPLES, deadline=None, database=None,
                          suppress_health_check=list(HealthCheck))
                def fuzz(case):
                    case.call_and_validate(base_url=srv.url, checks=CHECKS, timeout=30)
                fuzz()
            with httpx.Client(base_url=srv.url, timeout=30) as c:
                counters = c.get("/api/v1/metrics").json()["counters"]
            # the run did reach the server, on good and bad input alike
            assert counters["requests"] >= 5 * len(operations)
            assert counters.get("responses_2xx", 0) > 0 and counters.get("responses_4xx", 0) > 0
            assert counters.get("responses_5xx", 0) == 0
    finally:
        store.close()
