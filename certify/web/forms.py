"""Forms shared by several pages."""
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import EmailField, PasswordField, RadioField, SelectField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select

from certify.i18n import LANGUAGE_NAMES
from certify.i18n import lazy_gettext as _l
from certify.models import Material

# The materials a filter offers, as plain rows: a statement made once, run on every page with such a filter.
MATERIAL_CHOICES = select(Material.code, Material.name).order_by(Material.code)


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


class PlainOptionsSelect(Select):
    """WTForms' select, writing each plain option directly instead of through html_params: a filter listing one
    option per recycler was the costliest part of the review queue and the certificate search."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw or isinstance(choice.value, bool):
            return super().render_option(choice, **kwargs)
        selected = " selected" if choice.selected else ""
        # Escaped as WTForms escapes them: the value as an attribute, the label as text.
        value, label = escape(choice.value), escape(choice.label or choice.value)
        return Markup(f'<option value="{value}"{selected}>{label}</option>')  # nosec B704 - both parts escaped above


class FilterSelectField(SelectField):
    """A select of many plain options (companies, materials, statuses) in a search or filter form."""

    widget = PlainOptionsSelect()
