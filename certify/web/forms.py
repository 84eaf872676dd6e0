"""Forms shared by several pages."""
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, SelectField, SubmitField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import Select

from certify.i18n import LANGUAGE_NAMES
from certify.i18n import lazy_gettext as _l
from certify.models import Material
from certify.web.fragments import KeptHtml

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
    locale = RadioField(choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
                        validators=[DataRequired()])


# Rendered filter selects kept per process, each a few KiB (a hundred recyclers' options).
KEPT_SELECTS = KeptHtml(64)


class PlainOptionsSelect(Select):
    """WTForms' select, writing each plain option directly instead of through html_params, and kept once rendered:
    a filter listing one option per recycler was the costliest part of the review queue and the certificate
    search. The key holds everything the select is rendered from (name, id, attributes, flags, every option's
    value and label, the chosen value), so a new recycler or a label in another language renders anew."""

    def __call__(self, field, **kwargs):
        if self.multiple or field.has_groups():
            return super().__call__(field, **kwargs)
        try:
            key = (field.name, field.id, frozenset(kwargs.items()), frozenset(vars(field.flags).items()), field.coerce,
                   tuple((choice.value, str(choice.label)) for choice in field.choices), field.data)
        except (TypeError, AttributeError):  # unhashable attributes, or choices not SelectChoice: rendered, not kept
            return super().__call__(field, **kwargs)
        return KEPT_SELECTS.get(key, lambda: super(PlainOptionsSelect, self).__call__(field, **kwargs))

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

    def pre_validate(self, form):
        """WTForms' check that the value is one of the options, without first building a Choice object for each of
        a hundred options (with none chosen, that was most of the validation of the certificate search)."""
        if self.process_errors or not self.validate_choice or not self.choices:
            return super().pre_validate(form)
        try:
            chosen = any(self.coerce(choice.value) == self.data for choice in self.choices)
        except AttributeError:  # choices given otherwise than as SelectChoice
            return super().pre_validate(form)
        if not chosen:
            super().pre_validate(form)  # WTForms' own refusal, in its own words
