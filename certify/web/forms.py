"""Forms shared by several pages."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, RadioField, SubmitField
from wtforms.validators import DataRequired, Length

from certify.i18n import LANGUAGE_NAMES


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=256)])
    submit = SubmitField("Sign in")


class LogoutForm(FlaskForm):
    submit = SubmitField("Sign out")


class LanguageForm(FlaskForm):
    locale = RadioField(choices=list(LANGUAGE_NAMES.items()), validators=[DataRequired()])
    next = HiddenField()
