"""Forms of the filing pages. Labels are English message ids (Swedish in this feature's catalog);
choices that come from configuration (level and scale labels) are set by the views. WTForms' own
messages are in Swedish through riskreg.forms (BaseForm, SubForm)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from riskreg.forms import BaseForm, SubForm
from riskreg.models.codes import ActionStatus, Aspect, DpiaCriterion, Treatment

ASPECT_LABELS = {"K": _l("Confidentiality (K)"), "R": _l("Integrity (R)"), "T": _l("Availability (T)")}
TREATMENT_LABELS = {
    "reduce": _l("Reduce"),
    "avoid": _l("Avoid"),
    "transfer": _l("Transfer"),
    "accept": _l("Accept"),
}
ACTION_STATUS_LABELS = {
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "done": _l("Done"),
    "cancelled": _l("Cancelled"),
}
CRITERION_LABELS = {
    "evaluation_scoring": _l("Evaluation or scoring"),
    "automated_decision": _l("Automated decisions with legal or similar significant effect"),
    "systematic_monitoring": _l("Systematic monitoring"),
    "sensitive_data": _l("Sensitive or highly personal data"),
    "large_scale": _l("Data processed on a large scale"),
    "matching_datasets": _l("Matching or combining data sets"),
    "vulnerable_subjects": _l("Vulnerable data subjects (patients, children, employees)"),
    "innovative_technology": _l("Innovative use or new technology"),
    "prevents_rights": _l("Prevents data subjects from exercising a right or using a service"),
}
TEXT = 10000
REQUIRED = _l("Required.")


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class VersionForm(BaseForm):
    """A button that acts on a record as the user saw it (finalise, delete, new round)."""

    version = HiddenField()


# ------------------------------------------------------------------ classification


class InformationSetForm(SubForm):
    name = StringField(_l("Information set"), validators=[Optional(), Length(max=200)])
    confidentiality = SelectField(_l("K"), coerce=int, default=0)
    integrity = SelectField(_l("R"), coerce=int, default=0)
    availability = SelectField(_l("T"), coerce=int, default=0)


class ClassificationForm(BaseForm):
    confidentiality = SelectField(_l("Confidentiality (K)"), coerce=int, validators=[InputRequired(REQUIRED)])
    confidentiality_motivation = TextAreaField(_l("Motivation for K"), validators=[Length(max=TEXT)])
    integrity = SelectField(_l("Integrity (R)"), coerce=int, validators=[InputRequired(REQUIRED)])
    integrity_motivation = TextAreaField(_l("Motivation for R"), validators=[Length(max=TEXT)])
    availability = SelectField(_l("Availability (T)"), coerce=int, validators=[InputRequired(REQUIRED)])
    availability_motivation = TextAreaField(_l("Motivation for T"), validators=[Length(max=TEXT)])
    motivation = TextAreaField(_l("Overall motivation"), validators=[Length(max=TEXT)])
    information_sets = FieldList(FormField(InformationSetForm), min_entries=0, max_entries=50)
    version = HiddenField()
    save_draft = SubmitField(_l("Save as draft"))
    finalise = SubmitField(_l("Save and finalise"))


class CompareForm(BaseForm):
    class Meta:
        csrf = False

    a = SelectField(_l("Version"), coerce=int)
    b = SelectField(_l("Compared with"), coerce=int)


# ------------------------------------------------------------------ risk analysis


class RiskAnalysisForm(BaseForm):
    analysed_on = DateField(_l("Date of the analysis"), validators=[InputRequired(REQUIRED)])
    participants = TextAreaField(_l("Participants"), validators=[Length(max=TEXT)])
    scope = TextAreaField(_l("Scope"), validators=[Length(max=TEXT)])
    classification_id = SelectField(_l("Rests on classification"), coerce=_int_or_none, validate_choice=True)
    version = HiddenField()


class ActionForm(SubForm):
    id = HiddenField()
    description = TextAreaField(_l("Risk action"), validators=[Optional(), Length(max=TEXT)])
    responsible_id = SelectField(_l("Responsible"), coerce=_int_or_none)
    due_on = DateField(_l("Due date"), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=[(s.value, ACTION_STATUS_LABELS[s.value]) for s in ActionStatus],
        default="planned",
    )


class RiskForm(BaseForm):
    title = StringField(_l("Threat or scenario"), validators=[DataRequired(REQUIRED), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Length(max=TEXT)])
    aspect = SelectField(_l("Aspect"), choices=[(a.value, ASPECT_LABELS[a.value]) for a in Aspect])
    likelihood = SelectField(_l("Likelihood"), coerce=int)
    consequence = SelectField(_l("Consequence"), coerce=int)
    existing_protection = TextAreaField(_l("Existing protection"), validators=[Length(max=TEXT)])
    treatment = SelectField(
        _l("Treatment"),
        coerce=lambda v: v or None,
        choices=[("", _l("Not decided"))] + [(t.value, TREATMENT_LABELS[t.value]) for t in Treatment],
    )
    residual_likelihood = SelectField(_l("Residual likelihood"), coerce=_int_or_none)
    residual_consequence = SelectField(_l("Residual consequence"), coerce=_int_or_none)
    actions = FieldList(FormField(ActionForm), min_entries=0, max_entries=50)
    version = HiddenField()


class ActionStatusForm(BaseForm):
    status = SelectField(
        _l("Status"), choices=[(s.value, ACTION_STATUS_LABELS[s.value]) for s in ActionStatus]
    )
    completed_on = DateField(_l("Completed on"), validators=[Optional()])
    note = TextAreaField(_l("Note"), validators=[Length(max=2000)])
    version = HiddenField()


# ------------------------------------------------------------------ DPIA


class ScreeningForm(BaseForm):
    criteria = MultiCheckboxField(
        _l("Criteria that apply"), choices=[(c.value, CRITERION_LABELS[c.value]) for c in DpiaCriterion]
    )
    require_anyway = BooleanField(_l("Require a DPIA although fewer than two criteria apply"))
    motivation = TextAreaField(_l("Motivation"), validators=[Length(max=TEXT)])


class DpiaForm(BaseForm):
    description = TextAreaField(
        _l("Systematic description of the processing"), validators=[DataRequired(REQUIRED), Length(max=20000)]
    )
    purposes = TextAreaField(
        _l("Purposes of the processing"), validators=[DataRequired(REQUIRED), Length(max=20000)]
    )
    legal_basis = TextAreaField(_l("Legal basis"), validators=[DataRequired(REQUIRED), Length(max=20000)])
    necessity = TextAreaField(
        _l("Necessity and proportionality"), validators=[DataRequired(REQUIRED), Length(max=20000)]
    )
    risks = TextAreaField(
        _l("Risks to the rights and freedoms of the data subjects"),
        validators=[DataRequired(REQUIRED), Length(max=20000)],
    )
    measures = TextAreaField(
        _l("Measures to address the risks"), validators=[DataRequired(REQUIRED), Length(max=20000)]
    )
    high_residual_risk = BooleanField(_l("High residual risk remains after the measures"))
    version = HiddenField()


class OpinionForm(BaseForm):
    opinion = TextAreaField(
        _l("The data protection officer's opinion"), validators=[DataRequired(REQUIRED), Length(max=20000)]
    )
    prior_consultation_required = SelectField(
        _l("Prior consultation with IMY (art. 36)"),
        coerce=lambda v: {"yes": True, "no": False}.get(v),
        choices=[
            ("", _l("As the DPIA says (high residual risk)")),
            ("yes", _l("Required")),
            ("no", _l("Not required")),
        ],
    )
    version = HiddenField()


# ------------------------------------------------------------------ SLA


class SlaForm(BaseForm):
    supplier = StringField(_l("Supplier"), validators=[DataRequired(REQUIRED), Length(max=200)])
    agreement_ref = StringField(_l("Agreement reference"), validators=[Length(max=200)])
    availability_target = DecimalField(
        _l("Availability target (%)"),
        places=2,
        validators=[InputRequired(REQUIRED), NumberRange(min=0.01, max=100)],
    )
    service_hours = StringField(_l("Service hours"), validators=[Length(max=2000)])
    rto_hours = DecimalField(
        _l("RTO (hours)"), places=2, validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    rpo_hours = DecimalField(
        _l("RPO (hours)"), places=2, validators=[Optional(), NumberRange(min=0, max=100000)]
    )
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid to"), validators=[Optional()])
    replaces_id = HiddenField()  # the current SLA when the form was opened ("" for none)


class MeasurementForm(BaseForm):
    period = StringField(
        _l("Month"),
        validators=[
            InputRequired(REQUIRED),
            Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", message=_l("A month as YYYY-MM.")),
        ],
    )
    availability = DecimalField(
        _l("Measured availability (%)"),
        places=3,
        validators=[InputRequired(REQUIRED), NumberRange(min=0, max=100)],
    )
    downtime_minutes = IntegerField(
        _l("Downtime (minutes)"), validators=[Optional(), NumberRange(min=0, max=44640)]
    )
    note = StringField(_l("Note"), validators=[Length(max=2000)])


# What each level means for each aspect, in plain words (shown beside the classification form).
GUIDANCE = {
    "confidentiality": {
        0: _l("Public information: disclosure does no harm."),
        1: _l(
            "Internal information: disclosure causes moderate harm, such as inconvenience for the region "
            "or an individual."
        ),
        2: _l(
            "Disclosure causes significant harm, such as ordinary personal data or information under "
            "secrecy of lesser weight becoming known."
        ),
        3: _l(
            "Disclosure causes serious harm, such as patient records or sensitive personal data becoming "
            "known."
        ),
        4: _l(
            "Disclosure causes exceptionally serious harm, such as danger to life or to the security of the "
            "region or the nation."
        ),
    },
    "integrity": {
        0: _l("Wrong or altered information has no or negligible consequences."),
        1: _l("Errors cause moderate consequences and are easily found and corrected."),
        2: _l("Errors cause significant consequences, such as wrong decisions in case handling or finances."),
        3: _l("Errors cause serious consequences, such as wrong decisions in care that harm a patient."),
        4: _l(
            "Errors cause exceptionally serious consequences, such as danger to the life or health of many."
        ),
    },
    "availability": {
        0: _l("The information can be unavailable for weeks without consequences that matter."),
        1: _l("Unavailability for some days causes moderate consequences."),
        2: _l("Unavailability for a working day causes significant consequences."),
        3: _l("Unavailability for a few hours causes serious consequences, such as disrupted care."),
        4: _l("Even a short interruption causes exceptionally serious consequences, such as danger to life."),
    },
}
