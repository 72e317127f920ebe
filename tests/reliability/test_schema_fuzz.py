"""Bad input, part one: schemathesis over ``/api/schema/`` against a live server.

Every operation of the schema gets generated requests, valid ones (positive) and, where
it has inputs to break, invalid ones (negative), as a signed-in reader (``X-Session-Token``)
and as an anonymous one, against a catalogue of real rows (path parameters are drawn from
real ids and slugs as well as generated) and plans on sale at the sandbox. The promise: no
answer is a 5xx, and every answer's status, content type, headers and body are the ones the
schema documents.

The operations are walked with schemathesis's Python API and Hypothesis directly: its
pytest integration does not run on pytest 9.2. ``bench/schema_fuzz.py`` runs this module
with more examples and a random seed (``SCHEMA_FUZZ_EXAMPLES``, ``SCHEMA_FUZZ_RANDOM``) and
prints the figures it writes to ``SCHEMA_FUZZ_REPORT``.
"""

import json
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from rest_framework.throttling import SimpleRateThrottle
from schemathesis import checks as st_checks
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from tests.appstores import conftest as store_fixtures
from tests.billing import conftest as billing_fixtures
from tests.factories import UserFactory
from tests.reliability.readers import Catalogue, catalogue_make, plans_on_sale, session_token

_shared_sandbox = billing_fixtures._shared_sandbox
sandbox_api = billing_fixtures.sandbox_api
# The app-store sandbox, and Masthead aimed at it (autouse): the store endpoints look up
# the purchases they are given there.
store_sandbox = store_fixtures.store_sandbox
_stores_at_the_sandbox = store_fixtures._stores_at_the_sandbox

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "25"))
RANDOM_SEED = os.environ.get("SCHEMA_FUZZ_RANDOM") == "1"
REPORT = os.environ.get("SCHEMA_FUZZ_REPORT", "")

CHECKS = [
    st_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
OPERATIONS = 9  # the schema's operations today; a new one must be fuzzed too


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lift the per-reader rate limits, so the examples reach the views instead of 429s
    (the 429 itself is checked against the schema below). The trial's own limit stays."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "100000/min")
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "user", "100000/min")


def _positive(operation: Any, catalogue: Catalogue) -> Any:
    """Generated requests, mixed with requests naming real rows: an article's id, a title's
    slug, a plan on sale (so Checkout and the portal reach the sandbox, not only a 404)."""
    strategy = operation.as_strategy(GenerationMode.POSITIVE)
    names = {parameter.name for parameter in operation.path_parameters}
    if names == {"id"}:
        ids = [{"id": str(a.pk)} for a in catalogue.premium + catalogue.open]
        real = st.sampled_from(ids).map(lambda values: {"path_parameters": values})
    elif names == {"slug"}:
        slugs = [{"slug": t.slug} for t in catalogue.titles]
        real = st.sampled_from(slugs).map(lambda values: {"path_parameters": values})
    elif operation.path.endswith("/billing/checkout/"):
        bodies = [
            {"plan": p.slug, "interval": i} for p in catalogue.plans for i in ("month", "year")
        ]
        real = st.sampled_from(bodies).map(lambda body: {"body": body})
    else:
        return strategy
    rows = real.flatmap(lambda kwargs: operation.as_strategy(GenerationMode.POSITIVE, **kwargs))
    return st.one_of(strategy, rows)


def _trial_first(operation: Any) -> tuple[bool, str]:
    """Start the signed-in reader's trial first, so the reads after it see granted bodies."""
    return (not operation.path.endswith("/me/trial/"), operation.label)


def _fuzz(strategy: Any, examples: int, send: Callable[[Any], None]) -> None:
    @given(case=strategy)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=not RANDOM_SEED,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        send(case)

    run()


@pytest.mark.parametrize("reader", ["signed_in", "anonymous"])
def test_every_operation_answers_as_its_schema_says_and_never_with_a_5xx(
    reader, live_server, sandbox_api, unthrottled
):  # type: ignore[no-untyped-def]
    catalogue = catalogue_make()
    plans_on_sale(catalogue)
    headers = {"X-Session-Token": session_token(UserFactory())} if reader == "signed_in" else {}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    session = requests.Session()
    statuses: Counter[str] = Counter()
    examples: Counter[str] = Counter()
    failures: list[str] = []

    def send(case: Any) -> None:
        response = case.call(base_url=live_server.url, headers=headers, session=session)
        statuses[f"{case.operation.label} {response.status_code}"] += 1
        examples[case.operation.label] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    operations = sorted((r.ok() for r in schema.get_all_operations()), key=_trial_first)
    for operation in operations:
        runs = [
            ("positive", _positive(operation, catalogue)),
            ("negative", operation.as_strategy(GenerationMode.NEGATIVE)),
        ]
        for mode, strategy in runs:
            try:
                _fuzz(strategy, EXAMPLES, send)
            except Unsatisfiable:  # no input of the operation can be invalid (none, any string)
                if mode == "positive":
                    failures.append(f"{operation.label}: no valid request could be generated")
            except (Exception, BaseExceptionGroup) as error:  # report every operation's
                failures.append(f"{operation.label} ({mode}, {reader}):\n{error}")

    if REPORT:
        _report(reader, examples, statuses)
    assert not failures, "\n\n".join(failures)
    assert len(operations) >= OPERATIONS
    assert set(examples) == {operation.label for operation in operations}
    assert not [key for key in statuses if int(key.rsplit(" ", 1)[1]) >= 500]


def _report(reader: str, examples: Counter[str], statuses: Counter[str]) -> None:
    path = Path(REPORT)
    data = json.loads(path.read_text()) if path.exists() else {}
    data[reader] = {"examples": dict(examples), "statuses": dict(statuses)}
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def test_a_throttled_answer_is_one_the_schema_documents(live_server, monkeypatch):  # type: ignore[no-untyped-def]
    """Every view is rate limited, so every operation documents its 429 (the schema once
    documented it on the trial alone)."""
    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "anon", "3/min")
    catalogue_make(sizes=(1,))
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/?format=json")
    operation = schema["/api/v1/titles/"]["GET"]
    session = requests.Session()
    for _ in range(4):
        case = operation.Case(query={})
        response = case.call(base_url=live_server.url, session=session)
        if response.status_code == 429:
            break
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    case.validate_response(response, checks=CHECKS)
