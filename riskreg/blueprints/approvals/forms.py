"""Forms of the approval pages (CSRF from Flask-WTF; the rules themselves are the services')."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, FieldList, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from riskreg.forms import BaseForm, SubForm

DECISION_CHOICES = [
    SelectChoice("approved", _l("Approved")),
    SelectChoice("approved_with_conditions", _l("Approved with conditions")),
    SelectChoice("rejected", _l("Rejected (the system is to be decommissioned)")),
]


def optional_int(value):
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ConditionForm(SubForm):
    text = TextAreaField(_l("Condition"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    responsible_id = SelectField(_l("Responsible"), coerce=optional_int, validate_choice=False)
    due_on = DateField(_l("Due date"), validators=[Optional()])


class DecisionForm(BaseForm):
    decision = RadioField(
        _l("Decision"), choices=DECISION_CHOICES, validators=[DataRequired(_l("Choose the decision."))]
    )
    motivation = TextAreaField(
        _l("Motivation"),
        validators=[DataRequired(_l("Give the motivation for the decision.")), Length(max=10000)],
        render_kw={"rows": 5},
    )
    valid_until = DateField(_l("Valid until"), validators=[Optional()])
    conditions = FieldList(FormField(ConditionForm), min_entries=3, max_entries=50)


class RequestForm(BaseForm):
    note = TextAreaField(
        _l("Note to the risk owner (optional)"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 2},
    )


class EmptyForm(BaseForm):
    """A form with only its CSRF token (buttons that act)."""


class RevokeForm(BaseForm):
    motivation = TextAreaField(
        _l("Motivation for the revocation"),
        validators=[DataRequired(_l("Give the motivation for the revocation.")), Length(max=10000)],
        render_kw={"rows": 3},
    )


class FulfilForm(BaseForm):
    fulfilled_on = DateField(_l("Fulfilled on"), validators=[DataRequired(_l("Give the date."))])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 2})


class ReopenForm(BaseForm):
    note = TextAreaField(
        _l("Why the condition is not fulfilled"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 2},
    )


DISPOSITION_CHOICES = [
    SelectChoice("archived", _l("Archived")),
    SelectChoice("transferred", _l("Transferred to another system")),
    SelectChoice("deleted", _l("Deleted per a retention decision")),
]


class PlanForm(BaseForm):
    planned_on = DateField(
        _l("Planned decommissioning date"), validators=[DataRequired(_l("Give the date."))]
    )
    responsible_id = SelectField(_l("Responsible"), coerce=optional_int, validate_choice=False)
    disposition = RadioField(
        _l("What happens to the information"),
        choices=DISPOSITION_CHOICES,
        validators=[DataRequired(_l("Choose what happens to the information."))],
    )
    target_system = StringField(
        _l("Receiving system (for a transfer): its name or number"), validators=[Optional(), Length(max=200)]
    )
    retention_decision = TextAreaField(
        _l("Retention decision (gallringsbeslut)"),
        validators=[Optional(), Length(max=10000)],
        render_kw={"rows": 2},
    )
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 2})


class CancelPlanForm(BaseForm):
    motivation = TextAreaField(
        _l("Why the decommissioning is cancelled"),
        validators=[DataRequired(_l("Give the motivation for cancelling the plan.")), Length(max=10000)],
        render_kw={"rows": 3},
    )


class PrintForm(BaseForm):
    org_unit_id = SelectField(_l("Org unit"), coerce=optional_int, validate_choice=False)


class VerifyForm(BaseForm):
    class Meta:
        csrf = False

    sha256 = StringField(
        _l("Checksum (SHA-256) on the printed copy"), validators=[Optional(), Length(max=80)]
    )
