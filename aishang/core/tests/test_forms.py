import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aishang.core.forms import ShortListModelChoiceField
from aishang.core.testing import make_company, make_project
from aishang.estate.models import Project

pytestmark = pytest.mark.django_db


def test_a_short_list_reads_its_choices_in_one_plain_query():
    company = make_company()
    for name in ("甲项目", "乙项目", "丙项目"):
        make_project(company, name=name)
    queryset = Project.objects.filter(company=company).order_by("name")
    short_list = ShortListModelChoiceField(queryset=queryset, empty_label="（不选）")
    with CaptureQueriesContext(connection) as queries:
        choices = [(str(value), label) for value, label in short_list.choices]
    assert len(queries) == 1 and not queries[0]["sql"].lstrip().upper().startswith("DECLARE")
    assert choices == [(str(value), label) for value, label in forms.ModelChoiceField(
        queryset=queryset, empty_label="（不选）").choices]
    assert choices[0] == ("", "（不选）") and [label for _value, label in choices[1:]] == sorted(
        str(project) for project in queryset)


class ExampleForm(forms.Form):
    name = forms.CharField(label="姓名", help_text="与证件一致 <必填>")
    note = forms.CharField(label="备注", required=False)
    agree = forms.BooleanField(label="同意", required=False)
    token = forms.CharField(widget=forms.HiddenInput, required=False)


def render_field(form, name):
    from django.template import Context, Template

    return Template("{% load aishang %}{% form_field field %}").render(Context({"field": form[name]}))


def test_a_field_is_drawn_with_its_label_input_errors_and_help():
    form = ExampleForm({"name": "", "agree": "on", "token": "t"})
    assert not form.is_valid()
    html = render_field(form, "name")
    assert html.startswith('<div class="mb-3 required"><label class="form-label" for="id_name">姓名<span')
    assert 'class="is-invalid" aria-invalid="true"' in html and 'name="name"' in html
    assert '<div class="invalid-feedback d-block" role="alert">该字段是必填项。</div>' in html
    assert '<div class="form-text">与证件一致 &lt;必填&gt;</div>' in html
    optional = render_field(form, "note")
    assert optional.startswith('<div class="mb-3"><label') and "text-danger" not in optional
    assert 'name="agree" id="id_agree" class="form-check-input" checked>' in render_field(form, "agree")
    assert render_field(form, "token") == '<input type="hidden" name="token" value="t" id="id_token">'
