from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from riskreg.blueprints.accounts.forms import optional_id
from riskreg.forms import BaseForm


class OrgUnitForm(BaseForm):
    name = StringField(
        _l("Name"),
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=200, message=_l("At most 200 characters.")),
        ],
    )
    parent_id = SelectField(_l("Part of"), coerce=optional_id, validate_choice=False)
