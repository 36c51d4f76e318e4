"""/api/v1/openapi.json: valid OpenAPI 3, generated from the route registry and the marshmallow schemas, every
API route described, every error answer documented with the error shape."""

from __future__ import annotations

import re

import pytest

from riskreg.blueprints.api import ENDPOINTS

METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def spec(client):
    resp = client.get("/api/v1/openapi.json")  # no token: the document is public
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _template(rule: str) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def test_the_document_is_structurally_valid_openapi_3(spec):
    assert re.fullmatch(r"3\.0\.\d+", spec["openapi"])
    assert spec["info"]["title"] and spec["info"]["version"]
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    components = spec["components"]["schemas"]
    for ref in _refs(spec):
        assert ref.startswith("#/components/schemas/") and ref.rsplit("/", 1)[1] in components, ref
    op_ids = [op["operationId"] for _p, _m, op in _operations(spec)]
    assert len(op_ids) == len(set(op_ids))
    for path, method, op in _operations(spec):
        assert path.startswith("/api/v1/") and op["summary"], (path, method)
        declared = {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
        assert declared == set(re.findall(r"\{(\w+)\}", path)), (path, method)
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")
        assert all("schema" in p for p in op.get("parameters", []))
        assert any(code.startswith("2") for code in op["responses"]), (path, method)
        for code, response in op["responses"].items():
            assert re.fullmatch(r"[1-5]\d\d", code) and response["description"], (path, method, code)


def test_an_official_validator_agrees_when_installed(spec):
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(spec)


def test_every_api_route_is_described(app, spec):
    served = {(_template(rule.rule), method.lower())
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    described = {(path, method) for path, method, _op in _operations(spec)}
    assert served == described, {"undescribed": served - described, "not served": described - served}
    for path in ("/api/v1/openapi.json", "/api/v1/me", "/api/v1/systems", "/api/v1/systems/{system_id}",
                 "/api/v1/audit"):
        assert path in spec["paths"], path


def test_every_error_answer_is_documented(spec):
    by_key = {(_template("/api/v1" + ep.rule), ep.method.lower()): ep for ep in ENDPOINTS}
    for path, method, op in _operations(spec):
        ep = by_key[(path, method)]
        codes = {int(c) for c in op["responses"]}
        need = {503}
        if not ep.public:
            need.add(401)
            assert op["security"] == [{"bearer": []}], path
        if "{" in path:
            need.add(404)
        if ep.body is not None:
            need |= {400, 413, 415, 422}
        if ep.paged or ep.query is not None:
            need.add(422)
        assert need <= codes, (path, method, sorted(need - codes))
        for code in codes - {ep.status}:
            assert code >= 400, (path, method, code)
            schema = op["responses"][str(code)]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, code)


def test_error_schema_is_the_api_error_shape(spec):
    error = spec["components"]["schemas"]["Error"]
    assert error["required"] == ["error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    assert "fields" in error["properties"]["error"]["properties"]


def test_the_document_comes_from_the_schemas_that_validate(spec):
    from riskreg.schemas.audit import AuditEventOut, AuditQuery
    from riskreg.schemas.systems import SystemCreate

    components = spec["components"]["schemas"]
    create = spec["paths"]["/api/v1/systems"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    create = components[create["$ref"].rsplit("/", 1)[1]]
    assert set(create["properties"]) == set(SystemCreate().fields)
    assert set(create["required"]) == {n for n, f in SystemCreate().fields.items() if f.required}
    assert create["properties"]["criticality"]["enum"][:4] == ["A", "B", "C", "D"]
    assert set(components["AuditEventOut"]["properties"]) == set(AuditEventOut().fields) == {
        "id", "at", "user_id", "entity", "entity_id", "action", "before", "after", "client_address",
        "request_id"}
    audit = spec["paths"]["/api/v1/audit"]["get"]
    assert {p["name"] for p in audit["parameters"]} == set(AuditQuery().fields) | {"page", "per_page"}
    assert set(audit["responses"]["200"]["content"]) == {"application/json", "application/x-ndjson"}
