import pytest
from django.core.cache import cache

from aishang.core.testing import api_client, make_role, make_staff
from aishang.core.tests.api_specs import World, assert_crud_round_trip, company_admin, crud_routes, route_id
from aishang.users.models import Role, User

pytestmark = pytest.mark.django_db

PASSWORD = "Passw0rd!2026"


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    # The token endpoint is rate limited per address; every test starts with a clean count.
    cache.clear()


@pytest.fixture
def world():
    return World()


@pytest.fixture
def admin(world):
    return company_admin(world)


@pytest.fixture
def client(admin):
    return api_client(admin)


def obtain_token(username, password):
    return api_client().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_good_credentials_give_a_token_that_authenticates_api_calls(world):
    staff = make_staff(world.company, "admin", password=PASSWORD)

    response = obtain_token(staff.username, PASSWORD)

    assert response.status_code == 200
    client = api_client()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/v1/projects/").status_code == 200


def test_a_wrong_password_answers_401_in_chinese(world):
    staff = make_staff(world.company, "admin", password=PASSWORD)

    response = obtain_token(staff.username, "wrong-password")

    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误"


def test_after_five_failures_the_account_is_locked_even_for_the_right_password(world):
    staff = make_staff(world.company, "admin", password=PASSWORD)
    for _ in range(5):
        obtain_token(staff.username, "wrong-password")

    response = obtain_token(staff.username, PASSWORD)

    assert response.status_code == 403
    assert "锁定" in response.json()["detail"]


def test_a_deactivated_account_gets_no_token(world):
    staff = make_staff(world.company, "admin", password=PASSWORD)
    staff.is_active = False
    staff.save()

    assert obtain_token(staff.username, PASSWORD).status_code == 401


@pytest.mark.parametrize("route", crud_routes("users"), ids=route_id)
def test_an_administrator_can_create_read_change_and_delete(world, client, route):
    assert_crud_round_trip(client, route, world)


def user_body(world, **fields):
    return {"username": "li.si", "password": "Qiyu2026pass", "display_name": "李四",
            "roles": [world.role(world.company).pk], "projects": [world.project_a.pk], **fields}


def test_the_password_is_never_returned(world, client):
    created = client.post("/api/v1/users/", user_body(world), format="json")
    listed = client.get("/api/v1/users/")

    assert created.status_code == 201, created.content
    assert "password" not in created.json()
    assert all("password" not in row for row in listed.json()["results"])


def test_a_created_user_can_obtain_a_token_with_the_password(world, client):
    client.post("/api/v1/users/", user_body(world), format="json")

    assert obtain_token("li.si", "Qiyu2026pass").status_code == 200


def test_a_weak_password_is_refused_with_the_validators_messages(world, client):
    response = client.post("/api/v1/users/", user_body(world, password="12345678"), format="json")

    assert response.status_code == 400
    assert "密码须同时包含字母和数字" in response.json()["password"]
    assert not User.objects.filter(username="li.si").exists()


def test_a_new_user_needs_a_password(world, client):
    body = user_body(world)
    del body["password"]

    response = client.post("/api/v1/users/", body, format="json")

    assert response.status_code == 400
    assert response.json()["password"] == ["请设置密码"]


def test_roles_and_projects_are_id_lists(world, client):
    response = client.post("/api/v1/users/", user_body(world), format="json")

    assert response.json()["roles"] == [world.role(world.company).pk]
    assert response.json()["projects"] == [world.project_a.pk]
    assert response.json()["company"] == world.company.pk


def test_roles_of_another_company_are_refused(world, client):
    foreign = world.role(world.other_company)

    response = client.post("/api/v1/users/", user_body(world, roles=[foreign.pk]), format="json")

    assert response.status_code == 400
    assert response.json()["roles"] == [f"对象不存在（编号 {foreign.pk}）"]


def test_a_project_scoped_manager_cannot_grant_all_projects(world):
    manager = make_staff(world.company, "admin", projects=[world.project_a])

    response = api_client(manager).post("/api/v1/users/", user_body(world, scope_all_projects=True),
                                        format="json")

    assert response.status_code == 400
    assert "scope_all_projects" in response.json()


def test_a_staff_member_cannot_hand_out_a_role_stronger_than_their_own(world):
    manager = make_staff(world.company, "admin", projects=[world.project_a])
    mighty = make_role(world.company, ["users.delete_user"])

    response = api_client(manager).post("/api/v1/users/", user_body(world, roles=[mighty.pk]), format="json")

    assert response.status_code == 400
    assert "users.delete_user" in response.json()["roles"][0]


def test_a_put_keeps_the_projects_the_editor_cannot_see(world):
    manager = make_staff(world.company, "admin", projects=[world.project_a])
    colleague = make_staff(world.company, "service", projects=[world.project_a, world.project_b])

    response = api_client(manager).patch(f"/api/v1/users/{colleague.pk}/", {"projects": [world.project_a.pk]},
                                         format="json")

    assert response.status_code == 200, response.content
    assert set(colleague.projects.all()) == {world.project_a, world.project_b}


def test_a_project_scoped_manager_cannot_change_a_company_wide_administrator(world, admin):
    admin.projects.add(world.project_a)
    manager = make_staff(world.company, "admin", projects=[world.project_a])

    response = api_client(manager).patch(f"/api/v1/users/{admin.pk}/", {"password": "Takeover2026x"},
                                         format="json")

    assert response.status_code == 403
    admin.refresh_from_db()
    assert admin.check_password(PASSWORD)


def test_a_password_can_be_reset_by_an_administrator(world, client):
    staff = make_staff(world.company, "service", projects=[world.project_a])

    response = client.patch(f"/api/v1/users/{staff.pk}/", {"password": "NewPass2026x"}, format="json")

    assert response.status_code == 200
    staff.refresh_from_db()
    assert staff.check_password("NewPass2026x")


def test_nobody_deletes_their_own_account(admin, client):
    response = client.delete(f"/api/v1/users/{admin.pk}/")

    assert response.status_code == 409
    assert User.objects.filter(pk=admin.pk).exists()


def test_role_permissions_are_app_codename_strings(world, client):
    response = client.post("/api/v1/roles/", {"code": "reader", "name": "只读",
                                              "permissions": ["estate.view_unit", "customers.view_customer"]},
                           format="json")

    assert response.status_code == 201, response.content
    assert response.json()["permissions"] == ["customers.view_customer", "estate.view_unit"]
    role = Role.objects.get(pk=response.json()["id"])
    assert {p.codename for p in role.permissions.all()} == {"view_unit", "view_customer"}


def test_an_unknown_permission_is_refused(client):
    response = client.post("/api/v1/roles/", {"code": "reader", "name": "只读", "permissions": ["estate.fly"]},
                           format="json")

    assert response.status_code == 400
    assert response.json()["permissions"] == ["权限不存在：estate.fly（格式如 estate.view_unit）"]


def test_a_staff_member_cannot_put_permissions_they_lack_into_a_role(world):
    manager = make_staff(world.company, "admin")

    response = api_client(manager).post("/api/v1/roles/", {"code": "x", "name": "越权",
                                                           "permissions": ["users.delete_user"]}, format="json")

    assert response.status_code == 400
    assert "不能授予自己没有的权限" in response.json()["permissions"][0]


def test_a_built_in_role_cannot_be_deleted(world, client):
    role = world.role(world.company, "cashier")

    response = client.delete(f"/api/v1/roles/{role.pk}/")

    assert response.status_code == 409
    assert response.json()["detail"] == "系统内置角色不能删除"


def test_users_filter_by_role_and_project(world, client):
    wanted = make_staff(world.company, "service", projects=[world.project_a])
    make_staff(world.company, "service", projects=[world.project_b])
    make_staff(world.company, "cashier", projects=[world.project_a])

    response = client.get("/api/v1/users/", {"role": world.role(world.company).pk, "project": world.project_a.pk})

    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]
