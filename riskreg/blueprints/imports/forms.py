from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DecimalField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from riskreg.forms import BaseForm

ENCODING_CHOICES = [("", _l("Detect")), ("utf-8", "UTF-8"), ("cp1252", "Windows-1252"),
                    ("iso-8859-1", "ISO-8859-1"), ("utf-16", "UTF-16")]
DELIMITER_CHOICES = [("", _l("Detect")), (";", _l("Semicolon (;)")), (",", _l("Comma (,)")), ("tab", _l("Tab")),
                     ("|", _l("Vertical bar (|)"))]


class UploadForm(BaseForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(_l("Choose a file."))])
    source = StringField(_l("Source"), validators=[DataRequired(), Length(max=50)],
                         description=_l("Where the list comes from, e.g. servicenow or clarity. Lists from the same "
                                        "source remember their column mapping."))
    org_unit_id = SelectField(_l("Org unit for new systems"), coerce=str, validators=[Optional()])
    encoding = SelectField(_l("Encoding"), choices=ENCODING_CHOICES, validators=[Optional()])
    delimiter = SelectField(_l("Separator"), choices=DELIMITER_CHOICES, validators=[Optional()])
    sheet = StringField(_l("Sheet (XLSX)"), validators=[Optional(), Length(max=100)])


class ReadAgainForm(BaseForm):
    org_unit_id = SelectField(_l("Org unit for new systems"), coerce=str, validators=[Optional()])
    encoding = SelectField(_l("Encoding"), choices=ENCODING_CHOICES[1:], validators=[Optional()])
    delimiter = SelectField(_l("Separator"), choices=DELIMITER_CHOICES[1:], validators=[Optional()])
    sheet = SelectField(_l("Sheet"), coerce=str, validators=[Optional()])


class ThresholdsForm(BaseForm):
    merge = DecimalField(_l("Suggest merging from score"), validators=[NumberRange(0, 100)])
    confident = DecimalField(_l("Confident (bulk-acceptable) from score"), validators=[NumberRange(0, 100)])
    review = DecimalField(_l("Show candidates from score"), validators=[NumberRange(0, 100)])
    duplicate = DecimalField(_l("Rows of the list are duplicates from score"), validators=[NumberRange(0, 100)])
    margin = DecimalField(_l("Lead needed over the next system"), validators=[NumberRange(0, 100)])


class ActionForm(BaseForm):
    """Buttons that only post (apply, undo, accept): the CSRF token is all they carry."""
