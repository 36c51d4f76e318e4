"""The /api/v1 parent: bearer-token authentication, JSON in and out, paging, and the endpoint registry
that the OpenAPI document is generated from."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from riskreg import audit
from riskreg.actor import Actor
from riskreg.errors import (
    BadInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    RuleViolation,
    TooLarge,
    UnsupportedMediaType,
)
from riskreg.extensions import csrf, db
from riskreg.models import ApiToken, System, User
from riskreg.models.base import utcnow
from riskreg.services import filing
from riskreg.web import INT4_MAX, current_actor

api = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(api)

PUBLIC_ENDPOINTS = {"api.openapi"}


@dataclass
class Endpoint:
    rule: str
    method: str
    endpoint: str
    summary: str
    body: Schema | type[Schema] | None = None
    response: Schema | type[Schema] | None = None
    status: int = 200
    paged: bool = False
    query: Schema | type[Schema] | None = None
    errors: tuple[int, ...] = ()
    content_type: str = "application/json"
    request_content_type: str = "application/json"
    tags: list[str] = field(default_factory=list)
    public: bool = False
    also_produces: tuple[str, ...] = ()  # other media types of the success answer (e.g. ?format=jsonl)


ENDPOINTS: list[Endpoint] = []


def route(rule: str, method: str = "GET", *, summary: str, body=None, response=None, status: int = 200,
          paged: bool = False, query=None, errors: tuple[int, ...] = (), content_type: str = "application/json",
          request_content_type: str = "application/json", tag: str | None = None, public: bool = False,
          also_produces: tuple[str, ...] = ()):
    """Register a JSON endpoint and describe it for the OpenAPI document in one place."""

    def decorator(fn: Callable) -> Callable:
        name = f"{fn.__module__.rsplit('.', 2)[-2]}_{fn.__name__}"
        api.add_url_rule(rule, endpoint=name, view_func=fn, methods=[method])
        ENDPOINTS.append(Endpoint(rule, method, name, summary, body, response, status, paged, query, errors,
                                  content_type, request_content_type, [tag] if tag else [], public,
                                  tuple(also_produces)))
        if public:
            PUBLIC_ENDPOINTS.add(f"api.{name}")
        return fn

    return decorator


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@api.before_request
def authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticated("Authorization: Bearer <token> is required.")
    row = db.session.execute(  # one round trip: the token, its user and the user's roles
        select(ApiToken).where(ApiToken.token_hash == _token_hash(token.strip()))
        .options(joinedload(ApiToken.user, innerjoin=True).joinedload(User.role_rows))
    ).unique().scalar_one_or_none()
    now = utcnow()
    if (row is None or row.revoked_at is not None or (row.expires_at and row.expires_at < now)
            or not row.user.active):
        raise NotAuthenticated("The token is unknown, revoked or expired.")
    g.api_user = row.user
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=15):
        # token use is recorded at most every 15 minutes per token, not on every call
        row.last_used_at = now
        audit.record(db.session, current_actor(), "api_token", row.id, "used", None,
                     {"path": request.path, "method": request.method})
        db.session.commit()
    return None


NUL_REFUSED = "NUL characters are not allowed."
PAGE_MAX = 100_000  # the OpenAPI document's maximum for page (per_page above 500 is taken as 500)


@api.before_request
def check_input():
    """Refuse early what no handler should see: a body over MAX_CONTENT_LENGTH (413, before reading it),
    an id in the path beyond the integer range (404: no such record; PostgreSQL would fail on it) and NUL
    characters in the query string (422 naming the field; no database text takes them)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit and (request.content_length or 0) > limit:  # say so before reading any of it
        raise TooLarge(f"The request is larger than {limit // (1024 * 1024)} MB.")
    if any(isinstance(v, int) and not 0 < v <= INT4_MAX for v in (request.view_args or {}).values()):
        raise NotFound("No such record.")
    bad = sorted({k for k, v in request.args.items(multi=True) if "\x00" in k or "\x00" in v})
    if bad:
        raise RuleViolation("The input is invalid.", fields={k: [NUL_REFUSED] for k in bad})
    return None


def api_user() -> User:
    return g.api_user


def require(allowed: bool, message: str = "You may not do this.") -> None:
    if not allowed:
        raise NotAllowed(message)


def json_body(expect: type = dict) -> Any:
    """The request's JSON, or 400 when it is not JSON of the expected kind."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if expect is dict:
            return {}
        raise BadInput("A JSON body is required.")
    if request.mimetype != "application/json" and not request.mimetype.endswith("+json"):
        raise UnsupportedMediaType("Send the body as Content-Type: application/json.")
    try:
        data = json.loads(raw)
        nul = nul_paths(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput(f"The body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise BadInput("The body is nested too deeply.") from exc
    if not isinstance(data, expect):
        raise BadInput(f"The body must be a JSON {'object' if expect is dict else 'array'}.")
    if nul:
        raise RuleViolation("The input is invalid.", fields={p: [NUL_REFUSED] for p in nul})
    return data


def nul_paths(data: Any, prefix: str = "") -> list[str]:
    """Where a JSON value holds a NUL character (valid JSON, but no database text column takes it)."""
    if isinstance(data, str):
        return [prefix or "_schema"] if "\x00" in data else []
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in nul_paths(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(data, list):
        return [p for i, v in enumerate(data) for p in nul_paths(v, f"{prefix}.{i}" if prefix else str(i))]
    return []


def load(schema: Schema, data: Any, **kw: Any) -> Any:
    """Validate input with a marshmallow schema; problems become a 422 naming each field."""
    try:
        return schema.load(data, **kw)
    except ValidationError as exc:
        raise RuleViolation("The input is invalid.", fields=flatten_messages(exc.messages)) from exc


def body(schema: Schema) -> Any:
    """The request's JSON object validated with ``schema``: 400 when it is not a JSON object, 422 naming
    each field (an empty body is an empty object)."""
    return load(schema, json_body())


def query_args(schema: Schema) -> Any:
    """The query string's parameters that ``schema`` knows, validated with it (422 naming each field);
    others are left to the endpoint (e.g. paging)."""
    return load(schema, {k: v for k, v in request.args.items() if k in schema.fields})


def system_for(system_id: int, check: Callable[[Actor, System], None]) -> System:
    """The system a request is about: 404 when unknown, then ``check(actor, system)`` (it raises 403),
    before anything about the request's content is read."""
    system = filing.system(db.session, system_id)
    check(current_actor(), system)
    return system


def perform(action: Callable[..., Any], target_id: int, schema: Schema | None = None, *,
            dump: Callable[[Any], Any], status: int = 200):
    """The common end of a change: the body validated with ``schema`` (without one no body is read), then
    ``action(session, actor, target_id, **body)``, the commit, and ``dump(result)`` as the answer (with
    status 201 when ``status`` says so, else 200)."""
    data = body(schema) if schema is not None else {}
    result = action(db.session, current_actor(), target_id, **data)
    db.session.commit()
    payload = dump(result)
    return created(payload) if status == 201 else jsonify(payload)


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                out.update(flatten_messages(value, name))
            elif isinstance(value, list) and value and not all(isinstance(v, str) for v in value):
                out.update(flatten_messages(dict(enumerate(value)), name))
            else:
                out[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
    else:
        out[prefix or "_schema"] = [str(m) for m in (messages if isinstance(messages, list) else [messages])]
    return out


def page_args() -> tuple[int, int]:
    from flask import current_app

    errors: dict[str, list[str]] = {}
    values = {}
    for name, default in (("page", 1), ("per_page", current_app.config["PER_PAGE_DEFAULT"])):
        raw = request.args.get(name)
        try:
            values[name] = default if raw in (None, "") else int(raw)
            if values[name] < 1 or (name == "page" and values[name] > PAGE_MAX):
                raise ValueError
        except ValueError:
            errors[name] = [f"A whole number from 1 to {PAGE_MAX}." if name == "page"
                            else "Must be a positive whole number."]
    if errors:
        raise RuleViolation("Invalid paging.", fields=errors)
    return values["page"], min(values["per_page"], current_app.config["PER_PAGE_MAX"])


def paged(stmt: Select, dump: Callable[[list], list], count_stmt: Select | None = None):
    """Run a list query one page at a time: ``{items, total, page, per_page}``."""
    page, per_page = page_args()
    total = db.session.execute(
        count_stmt if count_stmt is not None else select(func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).scalars().all()
    return jsonify({"items": dump(list(rows)), "total": total, "page": page, "per_page": per_page})


def paged_list(items: list, dump: Callable[[list], list]):
    """Page a list already in memory (small sub-collections)."""
    page, per_page = page_args()
    chunk = items[(page - 1) * per_page: page * per_page]
    return jsonify({"items": dump(chunk), "total": len(items), "page": page, "per_page": per_page})


def created(payload: Any):
    resp = jsonify(payload)
    resp.status_code = 201
    return resp


@route("/openapi.json", summary="This OpenAPI 3 document, generated from the endpoint registry", public=True,
       tag="meta")
def openapi():
    from riskreg.openapi import build_spec

    return jsonify(build_spec())
