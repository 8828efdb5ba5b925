from django.forms.renderers import DjangoTemplates
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

WIDGETS = "django/forms/widgets/"
# Django's widget templates that are nothing but {% include "django/forms/widgets/input.html" %}.
INPUT_TEMPLATES = frozenset(f"{WIDGETS}{name}.html" for name in (
    "input", "text", "number", "email", "url", "password", "hidden", "date", "datetime", "time", "search", "tel",
    "color", "checkbox"))
SELECT_TEMPLATES = frozenset({f"{WIDGETS}select.html"})
OPTION_TEMPLATE = f"{WIDGETS}select_option.html"


class FormRenderer(DjangoTemplates):
    """Django's form renderer, with the plain ``<input>`` and ``<select>`` widgets written out in Python.

    Each widget otherwise renders through three or four small templates (the widget, ``input.html``,
    ``attrs.html``, one per option): on the 收银台 that was a tenth of the page's time. The markup is the same as
    Django's own templates give (``test_form_renderer`` compares them); every other widget, and any project
    override of these templates, goes through the template engine as before.
    """

    def render(self, template_name, context, request=None):
        widget = context.get("widget")
        if widget is not None and template_name in INPUT_TEMPLATES:
            return mark_safe(_input(widget))
        if widget is not None and template_name in SELECT_TEMPLATES and _plain_options(widget):
            return mark_safe(_select(widget))
        return super().render(template_name, context, request)


def _attrs(attrs):
    return "".join(f" {conditional_escape(name)}" if value is True
                   else f' {conditional_escape(name)}="{conditional_escape(value)}"'
                   for name, value in attrs.items() if value is not False)


def _input(widget):
    value = "" if widget["value"] is None else f' value="{conditional_escape(widget["value"])}"'
    return f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"{value}' \
           f'{_attrs(widget["attrs"])}>'


def _plain_options(widget):
    """Options drawn by Django's option template with text labels (a number or date label would be localized)."""
    return all(option["template_name"] == OPTION_TEMPLATE and isinstance(option["label"], (str, Promise))
               for _name, options, _index in widget["optgroups"] for option in options)


def _select(widget):
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend(f'\n  <option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
                     f'{conditional_escape(option["label"])}</option>\n' for option in options)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)
