"""The API's OpenAPI document, and a page that renders it, on the api blueprint."""

from flask import current_app, render_template

from .openapi import build_document
from .routes import bp

METHODS = ("get", "post", "put", "patch", "delete")
PARAMETER_ORDER = {"path": 0, "query": 1, "header": 2, "cookie": 3}


def current_document() -> dict:
    """The OpenAPI document for the running version."""
    config = current_app.config
    return build_document(config["TOKER_VERSION"], int(config["TOKER_MIN_LIKES"]))


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3.1 document of the JSON API."""
    return current_document()


@bp.get("/docs")
def api_docs():
    """The OpenAPI document as a page: every operation grouped by tag, then the schemas."""
    return render_template("api_docs.html", section="api", **docs_context(current_document()))


# --- turning the document into what the page shows -------------------------------------------


def resolve(document: dict, item: dict) -> dict:
    """Follow a local $ref (#/components/...) to the object it names."""
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def _ref_name(item: dict) -> str | None:
    reference = item.get("$ref", "")
    return reference.rsplit("/", 1)[-1] if reference.startswith("#/components/schemas/") else None


def type_tokens(schema: dict) -> list[tuple[str, str]]:
    """A schema's type as ("text", words) and ("ref", schema name) pieces for the page."""
    name = _ref_name(schema)
    if name:
        return [("ref", name)]
    for keyword, joiner in (("allOf", " and "), ("anyOf", " or "), ("oneOf", " or ")):
        if keyword in schema:
            return _joined([type_tokens(part) for part in schema[keyword]], joiner)
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    choices = []
    for kind in types:
        if kind == "array":
            choices.append([("text", "array of ")] + type_tokens(schema.get("items", {})))
        else:
            choices.append([("text", kind)])
    return _joined(choices, " or ") or [("text", "any")]


def _joined(choices: list[list[tuple[str, str]]], joiner: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    for index, choice in enumerate(choices):
        if index:
            tokens.append(("text", joiner))
        tokens.extend(choice)
    return tokens


def _number(value) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _plural(count, word: str) -> str:
    return f"{_number(count)} {word}{'' if count == 1 else 's'}"


def _range(low, high, word: str = "") -> str | None:
    """'from 1 to 100', 'at least 1 item', 'at most 64 characters' or None."""
    unit = (lambda n: _plural(n, word)) if word else _number
    if low is not None and high is not None:
        return f"from {_number(low)} to {unit(high)}"
    if low is not None:
        return f"at least {unit(low)}"
    if high is not None:
        return f"at most {unit(high)}"
    return None


def _limits(schema: dict) -> list[str]:
    notes = []
    if "enum" in schema:
        notes.append(
            "one of: " + ", ".join("null" if v is None else str(v) for v in schema["enum"])
        )
    for low, high, word in (
        ("minimum", "maximum", ""),
        ("minLength", "maxLength", "character"),
        ("minItems", "maxItems", "item"),
    ):
        text = _range(schema.get(low), schema.get(high), word)
        if text:
            notes.append(text)
    if "format" in schema:
        notes.append(f"format {schema['format']}")
    if "pattern" in schema and len(schema["pattern"]) <= 20:
        notes.append(f"pattern {schema['pattern']}")
    if "default" in schema:
        notes.append(f"default {schema['default']}")
    return notes


def constraints(schema: dict) -> list[str]:
    """The limits a reader needs: allowed values, ranges, lengths, defaults (and its items')."""
    notes = _limits(schema)
    items = schema.get("items")
    if isinstance(items, dict) and "$ref" not in items:
        notes += ["each " + note for note in _limits(items)]
    return notes


def prose(text: str) -> list[tuple[str, str]]:
    """Description text as ("text", words) and ("code", `quoted`) pieces."""
    return [
        ("code" if index % 2 else "text", piece)
        for index, piece in enumerate(text.split("`"))
        if piece
    ]


def _field(name: str, schema: dict, required: bool, description: str | None = None) -> dict:
    return {
        "name": name,
        "type": type_tokens(schema),
        "required": required,
        "description": prose(description or schema.get("description", "")),
        "constraints": constraints(schema),
    }


def _parameters(document: dict, operation: dict) -> list[dict]:
    found = [resolve(document, item) for item in operation.get("parameters", [])]
    found.sort(key=lambda item: PARAMETER_ORDER.get(item["in"], 9))
    return [
        {
            **_field(
                item["name"], item["schema"], item.get("required", False), item.get("description")
            ),
            "in": item["in"],
        }
        for item in found
    ]


def _content(content: dict) -> list[dict]:
    return [
        {"media_type": media_type, "type": type_tokens(body.get("schema", {}))}
        for media_type, body in content.items()
    ]


def _responses(document: dict, operation: dict) -> list[dict]:
    rows = []
    for status, item in operation["responses"].items():
        response = resolve(document, item)
        rows.append(
            {
                "status": status,
                "description": prose(response.get("description", "")),
                "content": _content(response.get("content", {})),
                "headers": sorted(response.get("headers", {})),
            }
        )
    return rows


def _operation(document: dict, method: str, path: str, operation: dict) -> dict:
    body = operation.get("requestBody")
    body = resolve(document, body) if body else None
    security = operation.get("security", document.get("security", []))
    return {
        "id": operation["operationId"],
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": prose(operation.get("description", "")),
        "public": not security,
        "parameters": _parameters(document, operation),
        "body": {
            "description": prose(body.get("description", "")),
            "required": body.get("required", False),
            "content": _content(body["content"]),
        }
        if body
        else None,
        "responses": _responses(document, operation),
    }


def _schema_fields(document: dict, schema: dict) -> list[dict]:
    """The properties of an object schema, following allOf."""
    fields = []
    parts = schema.get("allOf", [schema])
    for part in parts:
        if "$ref" in part:
            fields.extend(_schema_fields(document, resolve(document, part)))
            continue
        required = set(part.get("required", []))
        for name, item in part.get("properties", {}).items():
            fields = [field for field in fields if field["name"] != name]
            fields.append(_field(name, item, name in required))
        for field in fields:
            field["required"] = field["required"] or field["name"] in required
    return fields


def docs_context(document: dict) -> dict:
    """What api_docs.html shows: operations grouped by tag, then every schema."""
    groups = {
        tag["name"]: {**tag, "description": prose(tag.get("description", "")), "operations": []}
        for tag in document.get("tags", [])
    }
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                operation = item[method]
                tag = (operation.get("tags") or ["other"])[0]
                group = groups.setdefault(tag, {"name": tag, "description": [], "operations": []})
                group["operations"].append(_operation(document, method, path, operation))
    schemas = []
    for name, schema in document["components"]["schemas"].items():
        fields = _schema_fields(document, schema)
        schemas.append(
            {
                "name": name,
                "description": prose(schema.get("description", "")),
                "type": [] if fields else type_tokens(schema),
                "constraints": constraints(schema),
                "fields": fields,
            }
        )
    return {
        "document": document,
        "intro": prose(document["info"].get("description", "")),
        "groups": [group for group in groups.values() if group["operations"]],
        "schemas": schemas,
    }
