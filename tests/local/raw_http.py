"""Raw HTTP to the local server, for what the SDK would refuse to send (bad bodies, bad keys)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from tests.local.conftest import API_KEY, LocalServer
from tests.local.schemas import validate


def raw_request(
    server: LocalServer,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """(status, decoded JSON body) of one request, errors included."""
    all_headers = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
    all_headers.update(headers or {})
    request = urllib.request.Request(
        server.base_url + path, data=body, method=method, headers=all_headers
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def expect_error(status: int, body: Any, expected: int) -> dict[str, Any]:
    """The `error` object of an OpenAI-shaped error response with the expected status."""
    assert status == expected, body
    validate(body, "ErrorResponse")
    error: dict[str, Any] = body["error"]
    return error
