"""Forms of the register's pages. Rules that need the database (known org unit, owners holding their
role, external references unique) are the service's; its RuleViolation fields land on these fields."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from riskreg.blueprints.accounts.forms import optional_id
from riskreg.forms import BaseForm
from riskreg.labels import CRITICALITY_LABELS, HOSTING_LABELS, LIFECYCLE_LABELS, PERSONAL_DATA_LABELS

MAX_ALIASES = 100
MAX_REFS = 50
REF_SOURCE = re.compile(r"^[a-z0-9_.-]{1,50}$")


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def parse_refs(text: str | None) -> list[dict[str, str]]:
    """``source:key`` per line → [{source, key}] (the key may itself hold colons)."""
    refs = []
    for line in lines(text):
        source, _, key = line.partition(":")
        refs.append({"source": source.strip().lower(), "key": key.strip()})
    return refs


def format_refs(refs) -> str:
    return "\n".join(f"{r.source}:{r.key}" for r in refs)


def blank_first(labels: dict, blank) -> list[tuple[str, str]]:
    return [("", blank)] + [(code, label) for code, label in labels.items()]


class SystemForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=10000, message=_l("At most 10,000 characters."))],
    )
    org_unit_id = SelectField(
        _l("Org unit"),
        coerce=optional_id,
        validate_choice=False,
        validators=[DataRequired(_l("Choose an org unit."))],
    )
    system_owner_id = SelectField(_l("System owner"), coerce=optional_id, validate_choice=False)
    risk_owner_id = SelectField(_l("Risk owner"), coerce=optional_id, validate_choice=False)
    criticality = SelectField(
        _l("Criticality"), choices=lambda: blank_first(CRITICALITY_LABELS, _l("— not set —")), default=""
    )
    lifecycle = SelectField(
        _l("Lifecycle"), choices=lambda: list(LIFECYCLE_LABELS.items()), default="in_operation"
    )
    supplier = StringField(
        _l("Supplier"), validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))]
    )
    hosting = SelectField(
        _l("Hosting"), choices=lambda: blank_first(HOSTING_LABELS, _l("— not set —")), default=""
    )
    personal_data = SelectField(
        _l("Processes personal data"), choices=lambda: list(PERSONAL_DATA_LABELS.items()), default="unknown"
    )
    special_categories = BooleanField(_l("Special categories of personal data (GDPR art. 9)"))
    priority_list = BooleanField(_l("On the priority list for emergencies"))
    aliases = TextAreaField(_l("Aliases"))
    external_refs = TextAreaField(_l("External references"))
    version = HiddenField()
    last_event = HiddenField()

    def validate_aliases(self, field):
        names = lines(field.data)
        if len(names) > MAX_ALIASES:
            raise ValidationError(_l("At most %(n)s aliases.", n=MAX_ALIASES))
        long = [n for n in names if len(n) > 200]
        if long:
            raise ValidationError(
                _l("An alias is at most 200 characters: %(alias)s", alias=long[0][:40] + "…")
            )

    def validate_external_refs(self, field):
        refs = parse_refs(field.data)
        if len(refs) > MAX_REFS:
            raise ValidationError(_l("At most %(n)s external references.", n=MAX_REFS))
        for line, ref in zip(lines(field.data), refs, strict=True):
            if not REF_SOURCE.match(ref["source"]) or not ref["key"]:
                raise ValidationError(
                    _l(
                        "Write each reference as source:key, the source in a-z, 0-9, _ . - (not “%(line)s”).",
                        line=line[:60],
                    )
                )
            if len(ref["key"]) > 200:
                raise ValidationError(_l("A key is at most 200 characters (“%(line)s”).", line=line[:60]))

    def values(self) -> dict:
        """What the service takes: the fields present on this form (a system owner's form has no owner
        or org unit fields)."""
        out = {
            "name": self.name.data.strip(),
            "description": (self.description.data or "").strip(),
            "criticality": self.criticality.data or None,
            "lifecycle": self.lifecycle.data,
            "supplier": (self.supplier.data or "").strip() or None,
            "hosting": self.hosting.data or None,
            "personal_data": self.personal_data.data,
            "special_categories": bool(self.special_categories.data),
            "priority_list": bool(self.priority_list.data),
            "aliases": lines(self.aliases.data),
            "external_refs": parse_refs(self.external_refs.data),
        }
        for key in ("org_unit_id", "system_owner_id", "risk_owner_id"):
            if key in self:
                out[key] = self[key].data
        return out

    def version_number(self) -> int | None:
        try:
            return int(self.version.data)
        except (TypeError, ValueError):
            return None

    def last_event_number(self) -> int:
        try:
            return max(int(self.last_event.data), 0)
        except (TypeError, ValueError):
            return 0


class MajorChangeForm(BaseForm):
    description = TextAreaField(
        _l("What changed"),
        validators=[
            DataRequired(_l("Describe the change.")),
            Length(max=5000, message=_l("At most 5,000 characters.")),
        ],
    )
