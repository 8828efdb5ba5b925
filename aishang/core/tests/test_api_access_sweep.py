"""Every registered API endpoint, walked automatically: nothing outside the caller's scope is reachable.

A project-A user with every register permission must not list, read, change or delete project B's
objects, nor create anything that points into project B; a user of another company must not reach
anything of this company. A new endpoint joins the sweep by being registered (and fails until it
has a spec in ``api_specs.SPECS``).
"""

import pytest
from django.urls import URLResolver, get_resolver
from rest_framework.routers import APIRootView

from aishang.core.testing import api_client
from aishang.extras.changelog import serialize_object

from .api_specs import (
    PROJECT_ENDPOINTS,
    SPECS,
    World,
    detail_url,
    full_admin_role,
    is_read_only,
    list_url,
    listed_ids,
    registered_routes,
    route_id,
    route_model,
    spec_for,
    staff_with_role,
)

pytestmark = pytest.mark.django_db

ROUTES = registered_routes()
REFUSED = {400, 403, 404}
# Owner API: owner bearer tokens only, the owner's own units; portal/tests/test_api.py proves the 404s and that
# staff tokens get 401.
OWNER_API = "owner portal: reaches only the signed-in owner's units; see portal/tests"
# API views outside the register routers, each with the reason the sweep does not walk it.
NOT_SWEPT = {
    "aishang.users.api.views.ObtainTokenView": "anonymous exchange of credentials for a token",
    "aishang.customers.api.imports.UnitImportView": "starts a job for a project; tested with the import",
    "aishang.customers.api.imports.UnitImportTemplateView": "a blank spreadsheet for a project",
    "aishang.extras.api.jobs.JobViewSet": "a job is visible only to the user who started it",
    "aishang.billing.api.imports.BillImportView": "starts a job for a project; tested with the bill import",
    "aishang.billing.api.imports.BillImportTemplateView": "a blank spreadsheet for a project",
    "aishang.billing.api.reports.ReportView": "read-only figures from the user's scope; tested in test_reports",
    "aishang.billing.api.reports.StatementView": "a unit's or customer's statement; tested in test_reports",
    "aishang.billing.api.reports.ArrearsRemindView": "starts a 催缴 job in the user's scope; see test_reports_aging",
    "aishang.portal.api.views.SmsCodeView": OWNER_API,
    "aishang.portal.api.views.SmsLoginView": OWNER_API,
    "aishang.portal.api.views.WechatLoginView": OWNER_API,
    "aishang.portal.api.views.LogoutView": OWNER_API,
    "aishang.portal.api.views.MeView": OWNER_API,
    "aishang.portal.api.views.UnitListView": OWNER_API,
    "aishang.portal.api.views.UnitDetailView": OWNER_API,
    "aishang.portal.api.views.BillListView": OWNER_API,
    "aishang.portal.api.views.BillSelectionView": OWNER_API,
    "aishang.portal.api.views.PayView": OWNER_API,
    "aishang.portal.api.views.OrderView": OWNER_API,
    "aishang.portal.api.views.TopUpView": OWNER_API,
    "aishang.portal.api.views.PaymentListView": OWNER_API,
    "aishang.portal.api.views.ReceiptPdfView": OWNER_API,
    "aishang.portal.api.views.MessageListView": OWNER_API,
    "aishang.portal.api.views.UnreadCountView": OWNER_API,
    "aishang.portal.api.views.MarkReadView": OWNER_API,
}


def _is_company_level(route):
    spec = SPECS.get(route_model(route))
    return spec is not None and spec.company_level


def _creates(route):
    spec = SPECS.get(route_model(route))
    return spec is None or spec.payload is not None


PROJECT_ROUTES = [route for route in ROUTES if not _is_company_level(route)]


@pytest.fixture
def world():
    return World()


def snapshot(obj):
    obj = type(obj)._base_manager.filter(pk=obj.pk).first()
    return None if obj is None else serialize_object(obj)


def assert_unreachable(client, route, obj, valid_body):
    before = snapshot(obj)
    assert client.get(detail_url(route, obj)).status_code == 404
    for method in ("put", "patch", "delete"):
        response = getattr(client, method)(detail_url(route, obj), valid_body, format="json")
        assert response.status_code == (405 if is_read_only(route) else 404), (method, response.content)
    assert snapshot(obj) == before


def assert_create_refused(client, route, body):
    model = route_model(route)
    count = model._base_manager.count()
    response = client.post(list_url(route), body, format="json")
    assert response.status_code in REFUSED, response.content
    assert model._base_manager.count() == count


def api_view_names(patterns=None, prefix=""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_view_names(pattern.url_patterns, route)
        elif route.startswith("api/v1/"):
            view = getattr(pattern.callback, "cls", pattern.callback)
            if not (isinstance(view, type) and issubclass(view, APIRootView)):
                yield f"{view.__module__}.{view.__qualname__}"


def test_every_api_view_is_swept_or_named_as_not_swept():
    swept = {f"{viewset.__module__}.{viewset.__qualname__}" for _prefix, viewset in ROUTES}

    assert set(api_view_names()) - swept - set(PROJECT_ENDPOINTS) - set(NOT_SWEPT) == set()


def test_every_registered_endpoint_is_covered_by_the_sweep():
    missing = sorted(route_id(route) for route in ROUTES if route_model(route) not in SPECS)
    assert not missing, f"add a spec to aishang/core/tests/api_specs.py for: {missing}"


@pytest.mark.parametrize("route", PROJECT_ROUTES, ids=route_id)
def test_a_project_scoped_user_never_reaches_another_projects_objects(world, route):
    spec = spec_for(route)
    user = staff_with_role(world.company, full_admin_role(world.company), projects=[world.project_a])
    mine, theirs = spec.make(world, world.project_a), spec.make(world, world.project_b)
    client = api_client(user)

    ids = listed_ids(client.get(list_url(route), {"page_size": 500}))

    assert mine.pk in ids and theirs.pk not in ids
    assert client.get(detail_url(route, mine)).status_code == 200
    valid_body = spec.payload(world, world.project_a, world.project_a) if spec.payload else {}
    assert_unreachable(client, route, theirs, valid_body)


@pytest.mark.parametrize("route", [r for r in PROJECT_ROUTES if _creates(r)], ids=route_id)
def test_a_project_scoped_user_cannot_create_anything_pointing_into_another_project(world, route):
    spec = spec_for(route)
    user = staff_with_role(world.company, full_admin_role(world.company), projects=[world.project_a])
    client = api_client(user)

    assert_create_refused(client, route, spec.payload(world, world.project_b, world.project_b))
    if spec.has_references:
        assert_create_refused(client, route, spec.payload(world, world.project_a, world.project_b))


@pytest.mark.parametrize("route", ROUTES, ids=route_id)
def test_a_user_of_another_company_sees_nothing_of_this_company(world, route):
    spec = spec_for(route)
    home = world.company if spec.company_level else world.project_a
    theirs = spec.make(world, home)
    outsider = staff_with_role(world.other_company, full_admin_role(world.other_company))
    client = api_client(outsider)

    ids = listed_ids(client.get(list_url(route), {"page_size": 500}))

    assert theirs.pk not in ids
    other_home = world.other_company if spec.company_level else world.other_project
    valid_body = spec.payload(world, other_home, other_home) if spec.payload else {}
    assert_unreachable(client, route, theirs, valid_body)


@pytest.mark.parametrize("route", [r for r in ROUTES if _creates(r)], ids=route_id)
def test_a_user_of_another_company_cannot_create_anything_pointing_into_this_company(world, route):
    spec = spec_for(route)
    home = world.company if spec.company_level else world.project_a
    outsider = staff_with_role(world.other_company, full_admin_role(world.other_company))

    assert_create_refused(api_client(outsider), route, spec.payload(world, home, home))


def _call(client, endpoint, data):
    send = getattr(client, endpoint.method)
    return send(endpoint.path, data, format=endpoint.format) if endpoint.format else send(endpoint.path, data)


@pytest.mark.parametrize("name", sorted(PROJECT_ENDPOINTS))
def test_a_project_endpoint_answers_only_for_projects_in_the_callers_scope(world, name):
    endpoint = PROJECT_ENDPOINTS[name]
    scoped = api_client(staff_with_role(world.company, full_admin_role(world.company), projects=[world.project_a]))
    outsider = api_client(staff_with_role(world.other_company, full_admin_role(world.other_company)))
    writes = endpoint.writes._base_manager.count() if endpoint.writes else 0

    assert _call(scoped, endpoint, endpoint.body(world, world.project_b)).status_code == 404
    assert _call(outsider, endpoint, endpoint.body(world, world.project_a)).status_code == 404
    assert (endpoint.writes._base_manager.count() if endpoint.writes else 0) == writes
    assert _call(scoped, endpoint, endpoint.body(world, world.project_a)).status_code in {200, 201}
