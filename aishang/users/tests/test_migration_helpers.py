import importlib

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from aishang.core.testing import make_company, make_role
from aishang.users.migration_helpers import grant_to_system_roles

pytestmark = pytest.mark.django_db


def test_built_in_roles_of_existing_companies_get_the_new_rights_and_keep_the_rest():
    company = make_company()
    finance, steward = company.roles.get(code="finance"), company.roles.get(code="steward")
    allocation = Permission.objects.filter(content_type__app_label="meters", codename__contains="allocation")
    finance.permissions.remove(*allocation)  # as a company created before them
    steward.permissions.remove(*allocation)
    own_role = make_role(company, ["meters.view_meter"])
    kept = set(finance.permissions.exclude(pk__in=allocation).values_list("pk", flat=True))
    migration = importlib.import_module("aishang.meters.migrations.0004_allocation")
    state = MigrationLoader(connection).project_state(("meters", "0004_allocation"))

    grant_to_system_roles("meters", migration.ADDED)(state.apps, None)

    def allocation_rights(role):
        return set(role.permissions.filter(pk__in=allocation).values_list("codename", flat=True))

    assert allocation_rights(finance) == set(migration.ADDED["finance"])
    assert allocation_rights(steward) == {"view_allocationrule", "view_allocationrun"}
    assert allocation_rights(own_role) == set()
    assert kept <= set(finance.permissions.values_list("pk", flat=True))
