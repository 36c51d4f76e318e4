"""Base classes of every page form: WTForms' own messages (bad date, bad choice, bad number) in our words.

WTForms' Swedish catalog has flaws ("kunde inte ceorce:a") and some of its messages say less than ours, so
the messages below come from riskreg's shared catalog (riskreg/translations, always loaded); the rest
comes from WTForms' catalog, as Flask-WTF gives it. Every feature's forms inherit from ``BaseForm``
(a page's form: Flask-WTF's CSRF and the request's data) or ``SubForm`` (rows inside a form)."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.i18n import translations as wtforms_translations
from wtforms import Form

OWN_MESSAGES = {
    "Invalid Choice: could not coerce.": _l("Not a valid choice."),
    "Not a valid choice.": _l("Not a valid choice."),
    "Invalid choice(s): one or more data inputs could not be coerced.": _l(
        "One or more choices are not valid."
    ),
    "Not a valid date value.": _l("Not a valid date (YYYY-MM-DD)."),
    "Not a valid decimal value.": _l("Not a valid number."),
    "Not a valid float value.": _l("Not a valid number."),
    "Not a valid integer value.": _l("Not a valid whole number."),
}
# A multiple choice's values outside its choices (WTForms puts the values in its message).
OWN_PLURAL_MESSAGES = {
    "'%(value)s' is not a valid choice for this field.": (
        _l("Not a valid choice."),
        _l("One or more choices are not valid."),
    ),
}


class Translations:
    """Messages of WTForms' fields and validators: ours where we have them, else WTForms' Swedish."""

    def gettext(self, string):
        own = OWN_MESSAGES.get(string)
        return str(own) if own is not None else wtforms_translations.gettext(string)

    def ngettext(self, singular, plural, n):
        own = OWN_PLURAL_MESSAGES.get(singular)
        if own is not None:
            return str(own[0] if n == 1 else own[1])
        return wtforms_translations.ngettext(singular, plural, n)


TRANSLATIONS = Translations()


def _translations():
    return TRANSLATIONS if current_app.config.get("WTF_I18N_ENABLED", True) else None


class BaseForm(FlaskForm):
    """A page's form: Flask-WTF (CSRF, the request's data) with its messages in Swedish."""

    class Meta:
        def get_translations(self, form):
            return _translations()


class SubForm(Form):
    """Rows inside a page's form (FormField, FieldList): no CSRF of their own (the parent form has it),
    the same Swedish messages."""

    class Meta:
        def get_translations(self, form):
            return _translations()
