"""Forms of the account pages. Field rules that need the database (unique e-mail, password policy, known
org unit) are the service's; its RuleViolation fields are shown on these fields."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    widgets,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from riskreg.forms import BaseForm
from riskreg.labels import ROLE_LABELS


def optional_id(value):
    """A select's value: '' is none; anything else must be a whole number."""
    if value in (None, "", "None"):
        return None
    return int(value)


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a group of checkboxes (rendered with a fieldset and legend)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def role_choices():
    return [(code, label) for code, label in ROLE_LABELS.items()]


class LoginForm(BaseForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter your e-mail address.")),
            Length(max=254, message=_l("At most 254 characters.")),
        ],
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )


class LanguageForm(BaseForm):
    language = HiddenField()
    next = HiddenField()


class TokenForm(BaseForm):
    name = StringField(
        _l("Name of the token"),
        validators=[
            DataRequired(_l("Give the token a name.")),
            Length(max=100, message=_l("At most 100 characters.")),
        ],
    )


class RevokeForm(BaseForm):
    pass


def _new_password(label):
    return PasswordField(
        label,
        validators=[
            DataRequired(_l("Enter a new password.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordChangeForm(BaseForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _new_password(_l("New password"))
    repeat = PasswordField(
        _l("The new password again"),
        validators=[
            DataRequired(_l("Enter the new password again.")),
            EqualTo("new_password", message=_l("The two new passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordResetForm(BaseForm):
    password = _new_password(_l("New password"))


class UserForm(BaseForm):
    email = EmailField(
        _l("E-mail address"),
        validators=[
            DataRequired(_l("Enter an e-mail address.")),
            Length(max=254, message=_l("At most 254 characters.")),
        ],
    )
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    roles = MultiCheckboxField(
        _l("Roles"), choices=role_choices, validators=[DataRequired(_l("Choose at least one role."))]
    )
    org_unit_id = SelectField(
        _l("Org unit"), coerce=optional_id, validators=[Optional()], validate_choice=False
    )
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(_l("Enter a password.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )


class UserEditForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    roles = MultiCheckboxField(
        _l("Roles"), choices=role_choices, validators=[DataRequired(_l("Choose at least one role."))]
    )
    org_unit_id = SelectField(
        _l("Org unit"), coerce=optional_id, validators=[Optional()], validate_choice=False
    )
    active = BooleanField(_l("Active account"))
