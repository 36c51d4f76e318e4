"""Marshmallow schemas: one per resource, to load input, dump output and describe the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class StrictBoolean(fields.Boolean):
    """Only JSON true/false (query strings use ``QueryBoolean``)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Base(Schema):
    class Meta:
        ordered = True


def text(max_len: int, required: bool = False, **kw) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1 if required else 0, max=max_len), **kw)


def code(values, required: bool = False, **kw) -> fields.String:
    return fields.String(required=required, validate=validate.OneOf([str(v) for v in values]), **kw)


def ident(required: bool = False, **kw) -> fields.Integer:
    return fields.Integer(required=required, strict=True, validate=validate.Range(min=1, max=2**31 - 1), **kw)


def level(required: bool = True, **kw) -> fields.Integer:
    return fields.Integer(required=required, strict=True, validate=validate.Range(min=0, max=4), **kw)


def scale(required: bool = True, **kw) -> fields.Integer:
    return fields.Integer(required=required, strict=True, validate=validate.Range(min=1, max=4), **kw)


def query_ident(**kw) -> fields.Integer:
    """An id in a query string (text that must read as a positive whole number)."""
    return fields.Integer(validate=validate.Range(min=1, max=2**31 - 1), **kw)
