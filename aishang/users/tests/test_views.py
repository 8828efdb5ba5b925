import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from aishang.core.testing import make_company, make_project, make_role, make_staff
from aishang.extras.models import ObjectChange
from aishang.users.models import Role, User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "Huayuan2026x"


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def admin(company):
    return make_staff(company, "admin")


def staff_data(company, **overrides):
    data = {"username": "zhangsan", "display_name": "张三", "mobile": "13912345678", "email": "",
            "password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD,
            "roles": [company.roles.get(code="cashier").pk], "scope": "selected", "projects": [],
            "is_active": "on"}
    data.update(overrides)
    return data


def user_changes(user):
    return ObjectChange.objects.filter(object_type=ContentType.objects.get_for_model(User), object_id=user.pk)


def field_errors(response, name):
    return [str(e) for e in response.context["form"].errors.get(name, [])]


# -- staff -----------------------------------------------------------------------------------------

def test_staff_list_shows_colleagues_with_masked_mobile(client, company, admin):
    colleague = make_staff(company, "cashier")
    colleague.mobile = "13912345678"
    colleague.save()
    make_staff(make_company(), "admin", username="outsider")
    client.force_login(admin)
    response = client.get(reverse("users:user_list"))
    assert response.status_code == 200
    content = response.content.decode()
    assert colleague.username in content
    assert "139****5678" in content and "13912345678" not in content
    assert "outsider" not in content


def test_staff_pages_need_the_staff_permissions(client, company):
    project = make_project(company)
    cashier = make_staff(company, "cashier", projects=[project])
    client.force_login(cashier)
    assert client.get(reverse("users:user_list")).status_code == 403
    assert client.get(reverse("users:user_add")).status_code == 404
    assert client.get(reverse("users:role_list")).status_code == 403


def test_adding_staff_sets_password_roles_and_projects_and_logs_them(client, company, admin):
    project = make_project(company)
    client.force_login(admin)
    response = client.post(reverse("users:user_add"), staff_data(company, projects=[project.pk]))
    staff = User.objects.get(username="zhangsan")
    assert response.status_code == 302 and response["Location"] == staff.get_absolute_url()
    assert staff.company == company
    assert staff.check_password(GOOD_PASSWORD)
    assert list(staff.roles.values_list("code", flat=True)) == ["cashier"]
    assert list(staff.projects.all()) == [project]
    assert not staff.scope_all_projects
    change = user_changes(staff).get()
    assert change.action == "create" and change.user == admin
    assert change.postchange_data["roles"] == ["收银员"]
    assert change.postchange_data["projects"] == [project.name]
    assert "password" not in change.postchange_data
    assert client.get(staff.get_absolute_url()).status_code == 200


@pytest.mark.parametrize(("password", "message"), [
    ("Ab1", "密码太短，至少需要 8 个字符"),
    ("12345678", "这个密码太常见了。"),
    ("83920174", "密码只包含数字。"),
    ("abcdefghij", "密码须同时包含字母和数字"),
])
def test_weak_initial_passwords_are_refused_in_chinese(client, company, admin, password, message):
    client.force_login(admin)
    response = client.post(reverse("users:user_add"),
                           staff_data(company, password1=password, password2=password, scope="all"))
    assert response.status_code == 400
    assert message in field_errors(response, "password1")
    assert message in response.content.decode()
    assert not User.objects.filter(username="zhangsan").exists()


def test_a_password_like_the_user_name_is_refused(client, company, admin):
    client.force_login(admin)
    response = client.post(reverse("users:user_add"), staff_data(
        company, username="wangxiaoming2", password1="wangxiaoming2", password2="wangxiaoming2", scope="all"))
    assert response.status_code == 400
    assert any("太相似" in e for e in field_errors(response, "password1"))


def test_mismatched_passwords_and_duplicate_user_names_are_refused(client, company, admin):
    client.force_login(admin)
    response = client.post(reverse("users:user_add"), staff_data(company, username=admin.username,
                                                                 password2="Other2026x", scope="all"))
    assert response.status_code == 400
    assert field_errors(response, "password2") == ["两次输入的密码不一致"]
    assert field_errors(response, "username")


def test_roles_and_projects_of_another_company_are_refused(client, company, admin):
    other = make_company()
    foreign_project = make_project(other)
    client.force_login(admin)
    response = client.post(reverse("users:user_add"), staff_data(
        company, roles=[other.roles.get(code="cashier").pk], projects=[foreign_project.pk]))
    assert response.status_code == 400
    assert any("选择一个有效的选项" in e for e in field_errors(response, "roles"))
    assert any("选择一个有效的选项" in e for e in field_errors(response, "projects"))
    assert not User.objects.filter(username="zhangsan").exists()


def test_a_project_scoped_admin_cannot_grant_all_projects_or_projects_outside_their_scope(client, company):
    project_a, project_b = make_project(company), make_project(company)
    manager = make_staff(company, "admin", projects=[project_a])
    client.force_login(manager)

    response = client.post(reverse("users:user_add"), staff_data(company, scope="all"))
    assert response.status_code == 400
    assert field_errors(response, "scope")

    response = client.post(reverse("users:user_add"), staff_data(company, projects=[project_b.pk]))
    assert response.status_code == 400
    assert field_errors(response, "projects")
    assert not User.objects.filter(username="zhangsan").exists()

    response = client.post(reverse("users:user_add"), staff_data(company, projects=[project_a.pk]))
    assert response.status_code == 302
    assert list(User.objects.get(username="zhangsan").projects.all()) == [project_a]


def test_a_project_scoped_admin_cannot_widen_their_own_scope(client, company):
    project_a, project_b = make_project(company), make_project(company)
    manager = make_staff(company, "admin", projects=[project_a])
    client.force_login(manager)
    url = reverse("users:user_edit", args=[manager.pk])
    base = {"username": manager.username, "display_name": "经理", "mobile": "", "email": "",
            "roles": [company.roles.get(code="admin").pk], "is_active": "on"}

    response = client.post(url, {**base, "scope": "all"})
    assert response.status_code == 400
    response = client.post(url, {**base, "scope": "selected", "projects": [project_a.pk, project_b.pk]})
    assert response.status_code == 400
    manager.refresh_from_db()
    assert not manager.scope_all_projects
    assert list(manager.projects.all()) == [project_a]

    response = client.post(url, {**base, "scope": "selected", "projects": [project_a.pk]})
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.display_name == "经理"


def test_roles_with_permissions_the_editor_lacks_cannot_be_assigned(client, company):
    hr = make_role(company, ["users.view_user", "users.add_user", "users.change_user", "users.view_role"],
                   code="hr")
    hr_clerk = make_staff(company, "hr")
    client.force_login(hr_clerk)
    response = client.post(reverse("users:user_add"), staff_data(company, scope="all"))
    assert response.status_code == 400
    assert any("自己没有的权限" in e for e in field_errors(response, "roles"))

    response = client.post(reverse("users:user_add"), staff_data(company, scope="all", roles=[hr.pk]))
    assert response.status_code == 302


def test_editing_keeps_projects_the_editor_cannot_see(client, company):
    project_a, project_b = make_project(company), make_project(company)
    manager = make_staff(company, "admin", projects=[project_a])
    clerk = make_staff(company, "cashier", projects=[project_a, project_b])
    client.force_login(manager)
    response = client.post(reverse("users:user_edit", args=[clerk.pk]), {
        "username": clerk.username, "display_name": "新名字", "mobile": "", "email": "",
        "roles": [company.roles.get(code="cashier").pk], "scope": "selected", "projects": [project_a.pk],
        "is_active": "on"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.display_name == "新名字"
    assert set(clerk.projects.all()) == {project_a, project_b}


def test_a_colleague_with_a_wider_scope_cannot_be_edited(client, company):
    project = make_project(company)
    manager = make_staff(company, "admin", projects=[project])
    boss = make_staff(company, "admin", scope_all_projects=True, projects=[project])
    client.force_login(manager)
    response = client.get(reverse("users:user_edit", args=[boss.pk]))
    assert response.status_code == 302
    response = client.post(reverse("users:user_set_active", args=[boss.pk]), {"active": "0"})
    boss.refresh_from_db()
    assert boss.is_active


def test_role_changes_of_staff_are_logged_with_before_and_after(client, company, admin):
    clerk = make_staff(company, "cashier")
    client.force_login(admin)
    response = client.post(reverse("users:user_edit", args=[clerk.pk]), {
        "username": clerk.username, "display_name": clerk.display_name, "mobile": "", "email": "",
        "roles": [company.roles.get(code="finance").pk], "scope": "all", "is_active": "on"})
    assert response.status_code == 302
    change = user_changes(clerk).latest("id")
    assert change.action == "update" and change.user == admin
    assert ("角色", "收银员", "财务") in change.diff()


def test_staff_are_deactivated_not_deleted_and_cannot_deactivate_themselves(client, company, admin):
    clerk = make_staff(company, "cashier")
    client.force_login(admin)
    detail = client.get(clerk.get_absolute_url()).content.decode()
    assert "停用" in detail and "删除" not in detail
    response = client.post(reverse("users:user_set_active", args=[clerk.pk]), {"active": "0"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert not clerk.is_active
    assert user_changes(clerk).latest("id").diff() == [("有效", "是", "否")]

    client.post(reverse("users:user_set_active", args=[admin.pk]), {"active": "0"})
    admin.refresh_from_db()
    assert admin.is_active

    response = client.post(reverse("users:user_list"), {"action": "activate", "pk": [clerk.pk]})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.is_active


def test_a_deactivated_user_cannot_sign_in(client, company, admin):
    clerk = make_staff(company, "cashier", password=GOOD_PASSWORD)
    clerk.is_active = False
    clerk.save()
    response = client.post(reverse("users:login"), {"username": clerk.username, "password": GOOD_PASSWORD})
    assert response.status_code == 200
    assert "用户名或密码错误" in response.content.decode() or "已停用" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_resets_a_password_and_the_old_one_stops_working(client, company, admin):
    from rest_framework.authtoken.models import Token

    clerk = make_staff(company, "cashier")
    Token.objects.create(user=clerk)
    client.force_login(admin)
    url = reverse("users:user_password", args=[clerk.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"password1": "12345678", "password2": "12345678"})
    assert response.status_code == 400
    assert "这个密码太常见了。" in field_errors(response, "password1")

    response = client.post(url, {"password1": "Xinmima2026", "password2": "Xinmima2026"})
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.check_password("Xinmima2026")
    assert not Token.objects.filter(user=clerk).exists()
    change = user_changes(clerk).latest("id")
    assert change.user == admin
    assert change.diff() == [("密码", "******", "已由管理员重置")]
    assert "Xinmima2026" not in str(change.postchange_data)


# -- login security --------------------------------------------------------------------------------

def test_the_login_page_speaks_chinese(client, company):
    staff = make_staff(company, "cashier")
    response = client.get(reverse("users:login"))
    assert "员工登录" in response.content.decode()
    response = client.post(reverse("users:login"), {"username": staff.username, "password": "wrong-1234"})
    assert response.status_code == 200
    assert "用户名或密码错误，请重新输入。" in response.content.decode()
    response = client.post(reverse("users:login"), {"username": "", "password": ""})
    assert response.context["form"].errors["username"] == ["该字段是必填项。"]


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(client, company):
    staff = make_staff(company, "cashier", password=GOOD_PASSWORD)
    url = reverse("users:login")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(url, {"username": staff.username, "password": "Wrong2026x"})
        assert response.status_code == 200
    response = client.post(url, {"username": staff.username, "password": "Wrong2026x"})
    assert response.status_code == 403
    response = client.post(url, {"username": staff.username, "password": GOOD_PASSWORD})
    assert response.status_code == 403
    assert "登录失败次数过多，账号已临时锁定，请 30 分钟后再试" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_admin_can_lift_a_lock_out(client, company, admin):
    staff = make_staff(company, "cashier", password=GOOD_PASSWORD)
    from django.test import Client

    visitor = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        visitor.post(reverse("users:login"), {"username": staff.username, "password": "Wrong2026x"})
    client.force_login(admin)
    detail = client.get(staff.get_absolute_url()).content.decode()
    assert "登录已锁定" in detail and "解除锁定" in detail

    response = client.post(reverse("users:user_unlock", args=[staff.pk]))
    assert response.status_code == 302
    assert "登录已锁定" not in client.get(staff.get_absolute_url()).content.decode()
    response = visitor.post(reverse("users:login"), {"username": staff.username, "password": GOOD_PASSWORD})
    assert response.status_code == 302


def test_sessions_end_after_two_idle_hours():
    assert settings.SESSION_COOKIE_AGE == 2 * 60 * 60
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == 0.5


def test_a_request_renews_the_session_at_most_once_a_minute(client, company, monkeypatch):
    import time

    client.force_login(make_staff(company, "cashier", password=GOOD_PASSWORD))
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started)
    first = client.get(reverse("analytics:home"))
    assert settings.SESSION_COOKIE_NAME in first.cookies  # renewed: the idle clock starts again
    monkeypatch.setattr(time, "time", lambda: started + 30)
    assert settings.SESSION_COOKIE_NAME not in client.get(reverse("analytics:home")).cookies
    monkeypatch.setattr(time, "time", lambda: started + 61)
    assert settings.SESSION_COOKIE_NAME in client.get(reverse("analytics:home")).cookies


def test_the_password_change_page_refuses_weak_passwords_in_chinese(client, company):
    staff = make_staff(company, "cashier", password=GOOD_PASSWORD)
    client.force_login(staff)
    url = reverse("users:password_change")
    assert client.get(url).status_code == 200
    response = client.post(url, {"old_password": GOOD_PASSWORD, "new_password1": "abc12", "new_password2": "abc12"})
    assert response.status_code == 200
    errors = [str(e) for e in response.context["form"].errors["new_password2"]]
    assert "密码太短，至少需要 8 个字符" in errors
    response = client.post(url, {"old_password": "nope", "new_password1": "Xinmima2026",
                                 "new_password2": "Xinmima2026"})
    assert "你的旧密码不正确。请重新输入。" in str(response.context["form"].errors["old_password"])
    response = client.post(url, {"old_password": GOOD_PASSWORD, "new_password1": "Xinmima2026",
                                 "new_password2": "Xinmima2026"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert staff.check_password("Xinmima2026")


# -- roles -----------------------------------------------------------------------------------------

def permission(name):
    app_label, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_role_list_counts_staff(client, company, admin):
    make_staff(company, "cashier")
    make_staff(company, "cashier")
    client.force_login(admin)
    response = client.get(reverse("users:role_list"))
    rows = {obj.code: obj for obj, _ in response.context["rows"]}
    assert rows["cashier"].staff_count == 2
    assert rows["admin"].staff_count == 1
    detail = client.get(company.roles.get(code="cashier").get_absolute_url())
    assert detail.context["staff_total"] == 2


def test_the_permission_matrix_saves_permissions_and_they_take_effect(client, company, admin):
    client.force_login(admin)
    response = client.get(reverse("users:role_add"))
    content = response.content.decode()
    for text in ("资源管理", "客户管理", "员工与权限", "扩展", "导出房屋", "导入房屋及业主", "导出客户",
                 "查看客户手机号、证件号明文", "查看变更记录", "查看审计日志"):
        assert text in content
    rows = [row.label for group in response.context["form"].matrix() for row in group.rows]
    assert rows == ["物业企业", "业态", "项目", "楼栋", "单元", "房屋", "车位", "客户", "入住关系", "车辆",
                    "收费项目", "收费标准", "调价记录", "收费标准绑定", "优惠方案", "定时出账", "出账批次", "应收账单",
                    "审批流程", "审批级次", "审批申请", "收款", "预存账户", "押金", "收款冲回", "日结", "收据模板",
                    "打印机", "仪表", "抄表读数", "线上支付订单", "渠道退款", "支付渠道配置", "消息", "消息模板",
                    "短信服务配置", "员工", "角色", "自定义字段"]

    chosen = ["users.view_user", "extras.view_objectchange", "estate.view_unit"]
    response = client.post(reverse("users:role_add"), {
        "name": "人事", "code": "hr", "description": "管理员工档案",
        "permissions": [permission(name).pk for name in chosen]})
    assert response.status_code == 302
    role = Role.objects.get(company=company, code="hr")
    assert sorted(f"{p.content_type.app_label}.{p.codename}" for p in role.permissions.all()) == sorted(chosen)
    change = ObjectChange.objects.filter(object_type=ContentType.objects.get_for_model(Role),
                                         object_id=role.pk).get()
    assert "房屋：查看" in change.postchange_data["permissions"]

    clerk = make_staff(company, "hr")
    client.force_login(clerk)
    assert client.get(reverse("users:user_list")).status_code == 200
    assert client.get(reverse("extras:objectchange_list")).status_code == 200
    assert client.get(reverse("users:role_list")).status_code == 403
    assert client.get(reverse("extras:customfield_list")).status_code == 403
    assert client.get(reverse("users:user_add")).status_code == 404


def test_roles_cannot_grant_what_the_editor_lacks_and_keep_what_the_editor_cannot_touch(client, company):
    editor_role = make_role(company, ["users.view_role", "users.change_role", "users.add_role",
                                      "estate.view_unit"], code="editor")
    editor = make_staff(company, "editor")
    target = make_role(company, ["customers.view_customer_pii"], code="target")
    client.force_login(editor)
    url = reverse("users:role_edit", args=[target.pk])

    response = client.post(url, {"name": target.name, "code": "target",
                                 "permissions": [permission("customers.export_customer").pk]})
    assert response.status_code == 400
    assert field_errors(response, "permissions")

    response = client.post(url, {"name": target.name, "code": "target",
                                 "permissions": [permission("estate.view_unit").pk]})
    assert response.status_code == 302
    assert {p.codename for p in target.permissions.all()} == {"view_customer_pii", "view_unit"}
    assert editor_role.permissions.count() == 4


def test_role_codes_are_unique_and_system_codes_fixed(client, company, admin):
    client.force_login(admin)
    response = client.post(reverse("users:role_add"), {"name": "新角色", "code": "cashier"})
    assert response.status_code == 400
    assert field_errors(response, "code") == ["该角色编码已被使用"]
    cashier = company.roles.get(code="cashier")
    response = client.post(reverse("users:role_edit", args=[cashier.pk]),
                           {"name": "前台收银", "code": "renamed", "description": "",
                            "permissions": [permission("estate.view_unit").pk]})
    assert response.status_code == 302
    cashier.refresh_from_db()
    assert cashier.code == "cashier" and cashier.name == "前台收银"
    assert [p.codename for p in cashier.permissions.all()] == ["view_unit"]


def test_system_roles_and_roles_in_use_cannot_be_deleted(client, company):
    make_role(company, ["users.view_role", "users.delete_role", "users.view_user"], code="remover")
    client.force_login(make_staff(company, "remover"))
    system_role = company.roles.get(code="cashier")
    response = client.post(reverse("users:role_delete", args=[system_role.pk]))
    assert response.status_code == 302
    assert Role.objects.filter(pk=system_role.pk).exists()

    used = make_role(company, ["estate.view_unit"], code="used")
    make_staff(company, "used")
    client.post(reverse("users:role_delete", args=[used.pk]))
    assert Role.objects.filter(pk=used.pk).exists()

    spare = make_role(company, ["estate.view_unit"], code="spare")
    assert client.get(reverse("users:role_delete", args=[spare.pk])).status_code == 200
    response = client.post(reverse("users:role_delete", args=[spare.pk]))
    assert response["Location"] == reverse("users:role_list")
    assert not Role.objects.filter(pk=spare.pk).exists()


def test_roles_of_another_company_answer_404(client, company, admin):
    foreign = make_company().roles.get(code="cashier")
    client.force_login(admin)
    assert client.get(foreign.get_absolute_url()).status_code == 404
    assert client.get(reverse("users:role_edit", args=[foreign.pk])).status_code == 404


def test_the_platform_operator_adds_staff_to_a_chosen_company(client, company):
    operator = User.objects.create_superuser("operator", password=GOOD_PASSWORD)
    other = make_company()
    project = make_project(company)
    client.force_login(operator)
    assert client.get(reverse("users:user_add")).status_code == 200

    data = {**staff_data(company, roles=[other.roles.get(code="cashier").pk], projects=[project.pk]),
            "company": company.pk}
    response = client.post(reverse("users:user_add"), data)
    assert response.status_code == 400
    assert field_errors(response, "roles") == ["只能选择本企业的角色"]

    response = client.post(reverse("users:user_add"), {**data, "roles": [company.roles.get(code="cashier").pk]})
    assert response.status_code == 302
    staff = User.objects.get(username="zhangsan")
    assert staff.company == company and list(staff.projects.all()) == [project]

    response = client.post(reverse("users:role_add"), {"company": other.pk, "name": "稽核", "code": "audit",
                                                       "permissions": [permission("extras.view_auditevent").pk]})
    assert response.status_code == 302
    assert other.roles.get(code="audit").permissions.get().codename == "view_auditevent"
