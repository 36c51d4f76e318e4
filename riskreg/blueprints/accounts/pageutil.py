"""Small helpers shared by the HTML pages (query strings, service errors on forms)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import flash, request

from riskreg.errors import DomainError


def query_args(**changes) -> str:
    """The current query string with some arguments changed (None removes one); empty ones dropped."""
    args = [(k, v) for k, v in request.args.items(multi=True) if v != "" and k not in changes]
    args += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(args)


def field_errors(form, exc: DomainError) -> bool:
    """Show a service's RuleViolation/Conflict on the form's fields, or as a message when no field fits.
    Returns True when at least one field took a message."""
    placed = False
    for name, messages in exc.fields.items():
        field = getattr(form, str(name).split(".")[0], None)
        if field is not None and hasattr(field, "errors"):
            field.errors = list(field.errors) + [str(m) for m in messages]
            placed = True
    if not placed:
        flash(str(exc.message), "error")
    return placed
