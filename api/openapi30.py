"""Down-convert FastAPI's OpenAPI 3.1 document to OpenAPI 3.0 (for the OGC ``oas30`` class).

Only what FastAPI and pydantic emit needs converting: ``anyOf`` with ``{"type": "null"}``
becomes ``nullable``, schema ``examples`` lists become ``example``, ``const`` becomes a
one-value ``enum``, numeric ``exclusiveMinimum``/``exclusiveMaximum`` become booleans.
"""

from __future__ import annotations

import copy
from typing import Any

_DROP = {"$schema", "contentMediaType", "contentEncoding", "$id"}


def _null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null" and len(schema) == 1


def _schema(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") == "string" and node.get("contentMediaType") == "application/octet-stream":
        node = {**node, "format": "binary"}  # 3.1's file upload, as 3.0 spells it
    node = {k: v for k, v in node.items() if k not in _DROP}
    for key in ("anyOf", "oneOf"):
        options = node.get(key)
        if isinstance(options, list) and any(_null(o) for o in options):
            rest = [o for o in options if not _null(o)]
            node.pop(key)
            node["nullable"] = True
            if len(rest) == 1:
                only = rest[0]
                if "$ref" in only:
                    node["allOf"] = [only]
                else:
                    node.update({k: v for k, v in only.items() if k not in node})
            elif rest:
                node[key] = rest
    kind = node.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        if len(kinds) < len(kind):
            node["nullable"] = True
        node["type"] = kinds[0] if len(kinds) == 1 else "string"
    if "const" in node:
        node["enum"] = [node.pop("const")]
    if isinstance(node.get("examples"), list):
        examples = node.pop("examples")
        if examples:
            node.setdefault("example", examples[0])
    for bound, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
            node[flag] = node.pop(bound)
            node[bound] = True
    return {k: (_schema(v) if k not in ("example", "default", "enum") else v) for k, v in node.items()}


def _walk(node: Any) -> Any:
    """Convert every ``schema`` found in operations, parameters and media types."""
    if isinstance(node, list):
        return [_walk(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "schema":
            out[key] = _schema(value)
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]
        else:
            out[key] = _walk(value)
    return out


def openapi_30(document: dict, *, path_prefix: str | None = None) -> dict:
    """An OpenAPI 3.0.3 copy of ``document`` (3.1), optionally only the paths under a prefix."""
    doc = copy.deepcopy(document)
    doc["openapi"] = "3.0.3"
    doc.pop("webhooks", None)
    doc.pop("jsonSchemaDialect", None)
    if path_prefix is not None:
        doc["paths"] = {p: v for p, v in doc.get("paths", {}).items() if p.startswith(path_prefix)}
    doc["paths"] = _walk(doc.get("paths", {}))
    components = doc.get("components", {})
    if "schemas" in components:
        components["schemas"] = {k: _schema(v) for k, v in components["schemas"].items()}
    for section in ("parameters", "responses", "requestBodies"):
        if section in components:
            components[section] = _walk(components[section])
    return doc
