"""The OpenAPI 3 document, generated from the endpoint registry and the same marshmallow schemas that
validate requests and shape answers (riskreg.blueprints.api.route)."""

from __future__ import annotations

import re
from functools import cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                "current": {"type": "object", "nullable": True,
                            "description": "with a 409 for a stale version: the record as it now is, in the "
                                           "shape the endpoint answers it"},
            },
        }
    },
}
ERROR_TEXT = {400: "Malformed request", 401: "No or bad token", 403: "Not allowed", 404: "Not found",
              409: "Conflict (e.g. a stale version)", 413: "Too large", 415: "Unsupported media type",
              422: "Invalid content or a workflow rule refused", 503: "Database unavailable"}
RULE_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _path(rule: str) -> tuple[str, list[dict]]:
    params = []
    for conv, name in RULE_PARAM.findall(rule):
        schema = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return RULE_PARAM.sub(r"{\2}", rule), params



@cache
def build_spec() -> dict:
    from riskreg.blueprints.api import ENDPOINTS

    spec = APISpec(title="riskreg", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()],
                   info={"description": "Register of information classification, risk analysis and approval "
                                        "to operate. Authentication: Authorization: Bearer <token>."},
                   servers=[{"url": "/"}])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Error", ERROR_SCHEMA)
    paths: dict[str, dict] = {}
    for ep in ENDPOINTS:
        path, params = _path("/api/v1" + ep.rule)
        op: dict = {"summary": ep.summary, "operationId": ep.endpoint, "tags": ep.tags or ["riskreg"],
                    "responses": {}}
        if not ep.public:
            op["security"] = [{"bearer": []}]
        parameters = list(params)
        if ep.paged:
            parameters += [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100000}},
                {"name": "per_page", "in": "query", "description": "at most 500: a larger value is taken as 500",
                 "schema": {"type": "integer", "minimum": 1}},
            ]
        if ep.query is not None:
            parameters.append({"in": "query", "schema": ep.query})
        if parameters:
            op["parameters"] = parameters
        if ep.body is not None:
            if ep.request_content_type == "multipart/form-data":
                op["requestBody"] = {"required": True, "content": {ep.request_content_type: {"schema": ep.body}}}
            else:
                op["requestBody"] = {"required": True, "content": {"application/json": {"schema": ep.body}}}
        ok: dict = {"description": "OK" if ep.status == 200 else "Created"}
        if ep.response is not None:
            if ep.paged:
                item = ep.response
                ok["content"] = {ep.content_type: {"schema": {
                    "type": "object", "required": ["items", "total", "page", "per_page"],
                    "properties": {"items": {"type": "array", "items": item}, "total": {"type": "integer"},
                                   "page": {"type": "integer"}, "per_page": {"type": "integer"}}}}}
            else:
                ok["content"] = {ep.content_type: {"schema": ep.response}}
        elif ep.content_type != "application/json":
            ok["content"] = {ep.content_type: {"schema": {"type": "string", "format": "binary"}}}
        for media in ep.also_produces:
            ok.setdefault("content", {})[media] = {"schema": {"type": "string"}}
        op["responses"][str(ep.status)] = ok
        codes = set(ep.errors) | ({401} if not ep.public else set())
        if ep.body is not None:
            codes |= {400, 413, 415, 422}
        if ep.paged or ep.query is not None:
            codes.add(422)  # a bad page, per_page or filter names the field
        if params:
            codes.add(404)
        codes.add(503)
        for code in sorted(codes):
            op["responses"][str(code)] = {"description": ERROR_TEXT.get(code, "Error"), "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        paths.setdefault(path, {})[ep.method.lower()] = op
    for path, ops in paths.items():
        spec.path(path=path, operations=ops)
    return spec.to_dict()
