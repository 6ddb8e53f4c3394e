"""Schemathesis against the live /openapi.json: every operation, ≥1,000 generated cases in all,
no 5xx, every status code, content type and body as documented; then the stateful links."""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import StartServer
from tests.reliability.conftest import assert_healthy

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_EXAMPLES_PER_OPERATION", "60"))
QUICK_EXAMPLES_PER_OPERATION = 12
MIN_TOTAL_CASES = 1000
# Real ids from the bundled defaults, so that cases reach past the 404 of a random id.
KNOWN_IDS: dict[str, list[str]] = {
    "model_id": ["default-logreg", "default-mnb", "default-svc", "default-logreg@production"],
    "dataset_id": ["sample-toxic-en"],
    "task_id": [],
}
# Operations that destroy what the other cases rely on run last.
DESTRUCTIVE = ("DELETE", "/remove_all")
SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


def _with_known_ids(case: Any, choice: int) -> Any:
    """Replace generated ids by real ones in some cases (path and JSON body)."""
    for name, values in KNOWN_IDS.items():
        if not values:
            continue
        value = values[choice % len(values)]
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value.split("@")[0] if name != "model_id" else value
        if isinstance(case.body, dict) and name in case.body:
            case.body[name] = value
    return case


def _fuzz(
    label: str,
    strategy: Any,
    run_settings: settings,
    checks: list[Any],
    calls: Counter[str],
    failures: dict[str, str],
    seconds: dict[str, float],
) -> None:
    """Run `strategy`'s cases against the server; count them, keep the first failure."""
    started = time.monotonic()

    @run_settings
    @given(case=strategy)
    def run(case: Any) -> None:
        calls[label] += 1
        case.call_and_validate(checks=checks, timeout=60)

    try:
        run()
    except Unsatisfiable:  # negative mode: nothing in this operation can be made invalid
        pass
    except BaseException as exc:  # FailureGroup is a BaseExceptionGroup; report every operation
        if isinstance(exc, KeyboardInterrupt):
            raise
        failures[label] = f"{type(exc).__name__}: {str(exc)[:3000]}"
    seconds[label] = round(time.monotonic() - started, 1)


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    return sorted(operations, key=lambda op: any(d in op.label for d in DESTRUCTIVE))


@pytest.mark.parametrize(
    "examples",
    [
        pytest.param(QUICK_EXAMPLES_PER_OPERATION, id="quick"),
        pytest.param(EXAMPLES_PER_OPERATION, id="full", marks=pytest.mark.slow),
    ],
)
def test_every_operation_conforms_and_never_5xx(start_server: StartServer, examples: int) -> None:
    """The full run (`-m slow`) makes ≥1,000 cases; the quick one in the normal suite ~300."""
    server = start_server(MAX_QUEUED_FITS="4", FIT_TIMEOUT_S="20")
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = _operations(schema)
    assert len(operations) >= 20, [op.label for op in operations]
    calls: Counter[str] = Counter()
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}

    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(),
            st.tuples(operation.as_strategy(), st.integers(0, 7)).map(
                lambda pair: _with_known_ids(*pair)
            ),
        )
        _fuzz(
            operation.label,
            strategy,
            settings(SETTINGS, max_examples=examples),
            CHECKS,
            calls,
            failures,
            seconds,
        )

    report = "\n\n".join(f"== {label}\n{error}" for label, error in failures.items())
    assert not failures, report
    total = sum(calls.values())
    print(f"\nfuzzed {total} cases over {len(calls)} operations: {dict(calls)}\n{seconds}")
    assert set(calls) == {op.label for op in operations}
    if examples >= EXAMPLES_PER_OPERATION:
        assert total >= MIN_TOTAL_CASES, dict(calls)
    assert_healthy(server)


def test_invalid_input_is_a_documented_4xx(start_server: StartServer) -> None:
    """Schema-violating requests: a 4xx that the schema documents, never a 5xx."""
    server = start_server()
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    calls: Counter[str] = Counter()
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for operation in _operations(schema):
        try:
            strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)
        except Exception:  # an operation without inputs has no negative cases
            continue
        _fuzz(
            operation.label,
            strategy,
            settings(SETTINGS, max_examples=QUICK_EXAMPLES_PER_OPERATION),
            [not_a_server_error, status_code_conformance, content_type_conformance],
            calls,
            failures,
            seconds,
        )
    assert not failures, "\n\n".join(f"== {k}\n{v}" for k, v in failures.items())
    print(f"\nnegative cases: {sum(calls.values())} over {len(calls)} operations")
    assert_healthy(server)


def test_stateful_links(start_server: StartServer) -> None:
    """Sequences of calls through the schema's links (e.g. fit → task → cancel)."""
    server = start_server(MAX_QUEUED_FITS="4", FIT_TIMEOUT_S="20")
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    machine = schema.as_state_machine()
    # FastAPI writes no links; schemathesis infers them (fit → task, upload → dataset, ...)
    assert len(schema.operations_with_incoming_links()) >= 10

    class Machine(machine):  # type: ignore[misc, valid-type]
        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Machine.run(
        settings=settings(
            max_examples=40,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            stateful_step_count=6,
        )
    )
    assert_healthy(server)
