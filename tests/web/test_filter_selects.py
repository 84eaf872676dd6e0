"""Filter selects kept once rendered (certify/web/forms.py): the same HTML as rendered afresh, reused only for
exactly the same name, options, labels and choice."""
import pytest
from wtforms import Form, SelectChoice
from wtforms.validators import Optional

from certify.web import forms
from certify.web.forms import KEPT_SELECTS, FilterSelectField


class CompanyFilter(Form):
    company = FilterSelectField("Company", validators=[Optional()], validate_choice=False)


def company_filter(companies: list[tuple[str, str]], chosen: str | None = None) -> CompanyFilter:
    form = CompanyFilter(data={"company": chosen})
    form.company.choices = [SelectChoice("", "all companies")] + [SelectChoice(value, name) for value, name in companies]
    return form


def rendered_afresh(form: CompanyFilter) -> str:
    """The select as the widget renders it without keeping it."""
    return str(super(forms.PlainOptionsSelect, form.company.widget).__call__(form.company))


@pytest.fixture(autouse=True)
def no_kept_selects():
    KEPT_SELECTS.forget()
    yield
    KEPT_SELECTS.forget()


COMPANIES = [("3", "Hanbit Recycling"), ("5", "<Seoul> Metals & Co")]


def test_a_select_is_rendered_once_for_the_same_options_and_choice():
    first = company_filter(COMPANIES, "5").company()
    again = company_filter(COMPANIES, "5").company()
    assert again is first
    assert '<option value="5" selected>&lt;Seoul&gt; Metals &amp; Co</option>' in first
    assert str(first) == rendered_afresh(company_filter(COMPANIES, "5"))


@pytest.mark.parametrize("other", [
    company_filter(COMPANIES, "3"),  # another choice
    company_filter(COMPANIES),  # no choice
    company_filter(COMPANIES + [("9", "Daejeon Cobalt")], "5"),  # a new recycler in the queue
    company_filter([("3", "Hanbit Recycling"), ("5", "Seoul Metals")], "5"),  # a renamed one
])
def test_anything_the_select_shows_changing_renders_it_anew(other):
    kept = company_filter(COMPANIES, "5").company()
    rendered = other.company()
    assert rendered != kept
    assert str(rendered) == rendered_afresh(other)


def test_attributes_given_at_rendering_are_part_of_what_is_kept():
    plain = company_filter(COMPANIES, "5").company()
    described = company_filter(COMPANIES, "5").company(aria_invalid="true")
    assert 'aria-invalid="true"' in described and "aria-invalid" not in plain


def test_only_so_many_selects_are_kept():
    for number in range(KEPT_SELECTS.size + 10):
        company_filter([(str(number), f"Company {number}")]).company()
    assert len(KEPT_SELECTS) == KEPT_SELECTS.size


def test_only_one_of_the_options_is_a_valid_choice():
    class Checked(Form):
        company = FilterSelectField("Company")

    def validated(data):
        form = Checked(data={"company": data})
        form.company.choices = [SelectChoice("", "all companies")] + [SelectChoice(v, n) for v, n in COMPANIES]
        form.validate()
        return form.company.errors

    assert validated("5") == [] and validated("") == []
    assert validated("7") == ["Not a valid choice."] and validated("<script>") == ["Not a valid choice."]
