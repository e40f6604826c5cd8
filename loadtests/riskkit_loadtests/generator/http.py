"""One step of the API map as one HTTP request, timed from its intended start."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from riskkit_loadtests.apimap import ApiMap, render_template
from riskkit_loadtests.generator.recorder import Recorder

__all__ = ["StepCaller", "StepResult"]


@dataclass
class StepResult:
    """What a step returned: ``ok`` (success), ``refused`` (an expected business refusal)."""

    status: int
    ok: bool
    refused: bool
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return not (self.ok or self.refused)


def _dotted(body: Any, path: str) -> Any:
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _error_kind(status: int, error: BaseException | None) -> str:
    if status == 0:
        name = type(error).__name__.lower() if error is not None else ""
        return "timeout" if "timeout" in name else "connection"
    if status >= 500:
        return f"http_{status}"
    return f"http_{status}"


class StepCaller:
    """Renders a step of the API map and sends it with a Locust FastHttpUser client."""

    def __init__(self, api_map: ApiMap, recorder: Recorder) -> None:
        self.api_map = api_map
        self.recorder = recorder

    def call(
        self,
        client: Any,
        step: str,
        variables: dict[str, Any],
        intended_start: float | None = None,
        record_as: str | None = None,
    ) -> StepResult:
        """Send ``step``; latency counts from ``intended_start`` when given (open model)."""
        spec = self.api_map.steps[step]
        path = render_template(spec.path, variables)
        headers: dict[str, str] = {
            key: str(render_template(value, variables)) for key, value in spec.headers.items()
        }
        if self.api_map.auth is not None:
            headers[self.api_map.auth.header] = str(
                render_template(self.api_map.auth.value, variables)
            )
        body = render_template(spec.json_body, variables) if spec.json_body is not None else None
        name = record_as or step
        sent = time.perf_counter()
        response = client.request(spec.method, path, name=name, headers=headers, json=body)
        finished = time.perf_counter()
        began = intended_start if intended_start is not None else sent
        status = int(response.status_code or 0)
        ok = status in spec.ok_status
        refused = not ok and status in spec.expected_status
        payload: Any = None
        if status and (ok or refused):
            try:
                payload = json.loads(response.content or b"null")
            except (ValueError, TypeError):
                ok = refused = False  # a 200 that is not JSON is not a working shop
        fields = {var: _dotted(payload, where) for var, where in spec.extract.items()}
        failed = not (ok or refused)
        error = None
        if failed:
            error = (
                "bad_json"
                if status in spec.ok_status
                else _error_kind(status, getattr(response, "error", None))
            )
        self.recorder.sample(name, (finished - began) * 1000.0, failed, error)
        if ok:
            for check in spec.checks:
                value = _dotted(payload, check.field)
                passed = value is not None and (check.equals is None or value == check.equals)
                self.recorder.check(check.name, passed)
        return StepResult(status=status, ok=ok, refused=refused, fields=fields)
