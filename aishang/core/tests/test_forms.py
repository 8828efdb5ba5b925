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
