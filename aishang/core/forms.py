from django import forms
from django.forms.models import ModelChoiceIterator


def style_widgets(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, (forms.CheckboxInput, forms.CheckboxSelectMultiple, forms.RadioSelect)):
            continue
        css = "form-select" if isinstance(widget, (forms.Select, forms.SelectMultiple)) else "form-control"
        classes = widget.attrs.get("class", "").split()
        if css not in classes:
            widget.attrs["class"] = " ".join([*classes, css])
        if isinstance(widget, forms.DateInput):
            widget.input_type = "date"
            widget.format = "%Y-%m-%d"


class PlainQueryChoiceIterator(ModelChoiceIterator):
    """The choices from one ordinary query. Django reads them with ``QuerySet.iterator()``, which on PostgreSQL
    declares a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) for what is a list of a dozen rows."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for instance in self.queryset:
            yield self.choice(instance)


class ShortListModelChoiceField(forms.ModelChoiceField):
    """A choice among a few rows (fee items, a unit's customers) on a page that should open fast."""

    iterator = PlainQueryChoiceIterator


class ScopedModelForm(forms.ModelForm):
    """A ModelForm whose choices of related objects stop at the user's scope."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        for field in self.fields.values():
            queryset = getattr(field, "queryset", None)
            if queryset is not None and hasattr(queryset, "restrict"):
                field.queryset = queryset.restrict(user, "view")
        style_widgets(self)
        for field in self.fields.values():
            if field.widget.attrs.get("class", "").endswith("form-control") and field.required:
                field.widget.attrs.setdefault("required", True)
