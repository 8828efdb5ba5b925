import django_filters
from django import forms
from django.utils.translation import gettext

from .forms import style_widgets


class StyledFilterSet(django_filters.FilterSet):
    """Filters whose form looks like the rest of the back office, restricted to the user's scope."""

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, request=request, **kwargs)
        user = request.user if request is not None else None
        for filter_ in self.filters.values():
            queryset = getattr(filter_, "queryset", None)
            if queryset is not None and user is not None and hasattr(queryset, "restrict"):
                filter_.queryset = queryset.restrict(user, "view")
        style_widgets(self.form)

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            if isinstance(field.widget, forms.Select) and field.widget.choices:
                field.empty_label = gettext("全部")
        return form
