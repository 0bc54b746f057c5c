"""schemathesis against /openapi.json: generated requests to every operation, signed in as an
admin, never get a server error (5xx) and always answer as the schema says."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from edge.app.settings import ConsoleSettings
from edge.console.app import create_app
from edge.store.guards import GuardBook, SignInFailure
from tests.edge.console.conftest import GUARD_NAME, GUARD_PIN, Console, console_context

# The live stream never ends by design; a crowd of up to 100 000 simulated people is a load
# test, not an input check (its body is covered by the API tests).
SKIPPED = re.compile(r"^/api/v1/(live/stream|sim/crowd)$")
EXAMPLES_PER_OPERATION = 12


def test_no_server_errors_and_responses_match_the_schema(sim_console: Console) -> None:
    # schemathesis calls the app as http://testserver: a name this console must be told.
    app = create_app(
        console_context(sim_console.gate), ConsoleSettings(allowed_hosts=["testserver"])
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    signed = GuardBook(sim_console.gate.store).sign_in(GUARD_NAME, GUARD_PIN, now=datetime.now(UTC))
    assert not isinstance(signed, SignInFailure)
    bearer = {"Authorization": f"Bearer {signed[1]}"}
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if SKIPPED.match(operation.path):
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=bearer, checks=[not_a_server_error, response_schema_conformance]
            )

        check()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert len(tested) >= 20, tested
