"""Forms of two-step sign-in: the code after the password, and the code that confirms a new key."""
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Regexp

from certify.i18n import lazy_gettext as _l


def without_spaces(value: str | None) -> str | None:
    # Apps show the code as "123 456"; people type it either way.
    return "".join(value.split()) if value else value


def code_field(label) -> StringField:
    return StringField(label, filters=[without_spaces], validators=[
        DataRequired(message=_l("Enter the 6-digit code.")),
        Regexp(r"^[0-9]{6}$", message=_l("The code is 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 7, "pattern": "[0-9 ]*"})


class CodeForm(FlaskForm):
    code = code_field(_l("6-digit code"))
    submit = SubmitField(_l("Continue"))
    # Drops the half-finished sign-in, so that the browser can sign in with another account.
    start_over = SubmitField(_l("Sign in as someone else"))


class EnrolForm(FlaskForm):
    code = code_field(_l("Code shown by the app"))
    submit = SubmitField(_l("Turn on two-step sign-in"))
