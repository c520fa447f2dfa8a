"""Schema-driven fuzzing: every operation of the OpenAPI schema, anonymous and signed in, must never 5xx
and must answer as the schema says (schemathesis + hypothesis, bounded examples so CI stays fast)."""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from django.contrib.auth.models import User
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from carto.models import ApiKey
from config.wsgi import application

MAX_EXAMPLES = 10
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# The WSGI transport asks for gzip (requests' defaults) but hands the checks the body undecoded.
PLAIN = {"Accept-Encoding": "identity"}

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# The coverage phase enumerates every boundary value of every parameter (~35 cases per operation):
# too slow for each test run; random generation (with the schema's explicit examples) stays.
schema.config.phases.update(phases=["examples", "fuzzing"])
CALLS: Counter = Counter()

FUZZ = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,  # no .hypothesis/ folder in the repository; the seed is fixed instead
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(scope="module", autouse=True)
def figures():
    """Print what was covered (the figures quoted when the issue is closed)."""
    yield
    operations = {key.split(" ", 1)[1] for key in CALLS}
    print(f"\nschemathesis: {len(operations)} operations, {sum(CALLS.values())} cases, by profile:", end=" ")
    print(dict(Counter(key.split(" ", 1)[0] for key in CALLS.elements())))


@pytest.fixture
def token(committed_db) -> str:
    user = User.objects.create_user(username="fuzzer", password="a long password nobody guesses 42")
    return Token.objects.create(user=user).key


# committed_db, not db: a refused value (DataError) must not poison one long test transaction,
# and the pins services open durable transactions, as in production.
@schema.parametrize()
@FUZZ
def test_no_operation_fails_or_breaks_its_schema_for_an_anonymous_client(case, committed_db):
    CALLS[f"anonymous {case.operation.label}"] += 1
    case.call_and_validate(app=application, headers=PLAIN, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_no_operation_fails_or_breaks_its_schema_for_a_signed_in_client(case, token):
    CALLS[f"signed-in {case.operation.label}"] += 1
    case.call_and_validate(
        app=application, headers={**PLAIN, "Authorization": f"Token {token}"}, checks=CHECKS
    )


@pytest.fixture
def api_key(committed_db) -> str:
    return ApiKey.issue(name="fuzzer")[1]


# Anonymous fuzzing of Open311's POST stops at the api_key check (403): with a valid key, the generated
# forms reach the parsing of every field and the pins service behind it.
@schema.include(path_regex="^/open311/", method="POST").parametrize()
@settings(FUZZ, max_examples=5 * MAX_EXAMPLES)
def test_open311_posts_with_a_valid_api_key_never_fail_or_break_their_schema(case, api_key):
    CALLS[f"api-key {case.operation.label}"] += 1
    if isinstance(case.body, dict):
        case.body["api_key"] = api_key
    case.call_and_validate(app=application, headers=PLAIN, checks=CHECKS)
