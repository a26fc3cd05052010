"""Validate response bodies against the OpenAPI subset's component schemas (OpenAPI 3.1)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator

# OpenAI's published spec (MIT), the subset for files, fine-tuning, models and chat; see its
# `info.x-subset-note` for where it comes from.
SPEC = Path(__file__).with_name("openapi_ft_subset.yaml")


def _nullable_as_31(node: Any) -> Any:
    """The subset keeps upstream's 3.0-style `nullable: true`, which 3.1 validators ignore;
    read it as the spec means it: the value may also be null."""
    if isinstance(node, list):
        return [_nullable_as_31(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable_as_31(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        if "$ref" in out:
            return {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    return out


def load_spec() -> dict[str, Any]:
    """The subset as the server is checked against it (3.1 nulls, and the one fix below)."""
    spec: dict[str, Any] = _nullable_as_31(yaml.safe_load(SPEC.read_text(encoding="utf-8")))
    # An empty page has no first or last id. The spec says so for the other cursor pages
    # (checkpoints, permissions: `anyOf: [string, null]`) but types the files page's ids as
    # plain strings; the local server answers null on every empty page alike.
    files_page = spec["components"]["schemas"]["ListFilesResponse"]["properties"]
    for name in ("first_id", "last_id"):
        files_page[name] = {"anyOf": [files_page[name], {"type": "null"}]}
    return spec


@functools.cache
def _components() -> dict[str, Any]:
    components: dict[str, Any] = load_spec()["components"]
    return components


def validate(body: Any, schema_name: str) -> None:
    """Raise `jsonschema.ValidationError` when `body` does not match the named schema."""
    components = _components()
    schema = dict(components["schemas"][schema_name])
    schema["components"] = components
    OAS31Validator(schema).validate(body)


def raw_json(raw_response: Any) -> Any:
    """The JSON body of an SDK `with_raw_response` result."""
    return json.loads(raw_response.http_response.text)
