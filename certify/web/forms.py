"""Forms shared by several pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, RadioField, SubmitField
from wtforms.validators import DataRequired, Length

from certify.i18n import LANGUAGE_NAMES


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter your e-mail address.")),
                                                  Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(message=_l("Enter your password.")),
                                                         Length(max=256)])
    submit = SubmitField(_l("Sign in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Sign out"))


class LanguageForm(FlaskForm):
    locale = RadioField(choices=list(LANGUAGE_NAMES.items()), validators=[DataRequired()])
