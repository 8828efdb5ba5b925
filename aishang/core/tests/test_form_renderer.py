import datetime
from decimal import Decimal

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from aishang.core.form_renderer import FormRenderer

WIDGETS = [
    forms.TextInput(attrs={"class": "form-control", "placeholder": 'say "hi" & <bye>', "autofocus": True,
                           "disabled": False}),
    forms.NumberInput(attrs={"step": "0.01", "min": Decimal("0.01")}),
    forms.EmailInput(), forms.URLInput(), forms.PasswordInput(render_value=True), forms.HiddenInput(),
    forms.DateInput(format="%Y-%m-%d"), forms.DateTimeInput(), forms.TimeInput(), forms.SearchInput(),
    forms.TelInput(), forms.ColorInput(), forms.CheckboxInput(attrs={"class": "form-check-input"}),
    forms.Select(choices=[("", "---------"), (1, "物业费"), ("a&b", gettext_lazy("通用预存")),
                          ("group <1>", [("x", "X <em>"), ("y", mark_safe("<b>Y</b>"))])],
                 attrs={"class": "form-select", "required": True}),
    forms.Select(choices=[(1, 1), (2, datetime.date(2026, 1, 2))]),  # non-text labels: the template draws them
    forms.Textarea(attrs={"rows": 2}),  # not written in Python: the template draws it
]
VALUES = [None, "", "plain", 'quo"te & <tag>', 0, Decimal("12.50"), True, False, 1, "a&b", "y", "x",
          datetime.date(2026, 11, 24), mark_safe("<safe>")]


@pytest.mark.parametrize("widget", WIDGETS, ids=lambda widget: type(widget).__name__)
def test_widgets_render_exactly_as_djangos_own_templates(widget):
    ours, djangos = FormRenderer(), DjangoTemplates()
    for value in VALUES:
        assert widget.render("field", value, attrs={"id": "id_field"}, renderer=ours) == \
            widget.render("field", value, attrs={"id": "id_field"}, renderer=djangos), value


def test_the_fast_path_is_taken_for_inputs_and_selects(monkeypatch):
    renderer = FormRenderer()
    monkeypatch.setattr(DjangoTemplates, "render", lambda *args, **kwargs: pytest.fail("went through a template"))
    html = forms.TextInput().render("name", "张三", renderer=renderer)
    assert html == '<input type="text" name="name" value="张三">'
    html = forms.Select(choices=[(1, "物业费")]).render("item", 1, renderer=renderer)
    assert html == '<select name="item">\n  <option value="1" selected>物业费</option>\n\n</select>'
