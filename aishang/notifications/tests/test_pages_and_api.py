import pytest
from django.urls import reverse

from aishang.core.testing import (
    api_client,
    make_company,
    make_customer,
    make_message,
    make_message_template,
    make_project,
    make_role,
    make_sms_config,
    make_staff,
)
from aishang.notifications.models import MessageTemplate, SmsProviderConfig
from aishang.notifications.rendering import render_text

pytestmark = pytest.mark.django_db

CLERK_PERMS = ["notifications.view_message", "notifications.change_message"]
ADMIN_PERMS = [*CLERK_PERMS, "notifications.view_messagetemplate", "notifications.add_messagetemplate",
               "notifications.change_messagetemplate", "notifications.change_smsproviderconfig"]


@pytest.fixture
def company():
    return make_company()


@pytest.fixture
def project(company):
    return make_project(company)


def staff_with(company, permissions, projects=()):
    user = make_staff(company, "cashier", projects=projects)
    user.roles.add(make_role(company, permissions))
    return user


# -- safe rendering --------------------------------------------------------------------------------

def test_placeholders_are_filled_from_the_parameters_only():
    assert render_text("{customer}应缴{amount}元", {"customer": "张三", "amount": "216.90"}) == "张三应缴216.90元"


@pytest.mark.parametrize("text", ["{__class__}", "{customer.__class__}", "{{ request }}", "{% load static %}",
                                  "{customer[0]}", "{amount!r}", "{amount:>10}", "{unknown}"])
def test_a_template_cannot_reach_attributes_or_run_code(text):
    assert render_text(text, {"customer": "张三", "amount": "1"}) == text


def test_a_template_with_an_unknown_variable_is_refused_when_saved(client, company):
    admin = staff_with(company, ADMIN_PERMS)
    client.force_login(admin)
    response = client.post(reverse("notifications:messagetemplate_add", args=["bill_posted"]), {
        "name": "账单已出", "title": "{project}账单", "body": "{customer}请看 {__class__}", "is_active": "on"})
    assert response.status_code == 400
    assert "{__class__}" in str(response.context["form"].errors["body"])
    assert not MessageTemplate.objects.exists()


def test_a_company_admin_saves_its_own_wording_and_previews_it(client, company):
    admin = staff_with(company, ADMIN_PERMS)
    client.force_login(admin)
    response = client.post(reverse("notifications:messagetemplate_add", args=["bill_due"]), {
        "name": "缴费提醒", "title": "{project}提醒", "body": "{customer}，{amount}元将于{due_date}到期",
        "is_active": "on", "sms_template_code": "SMS_1", "wechat_fields": "thing1: {project}"})
    assert response.status_code == 302
    template = MessageTemplate.objects.get(company=company, code="bill_due")
    assert template.wechat_fields == {"thing1": "{project}"}
    preview = client.post(reverse("notifications:messagetemplate_preview", args=["bill_due"]),
                          {"title": "{project}提醒", "body": "<b>{customer}</b> {{ request }}"},
                          headers={"HX-Request": "true"})
    content = preview.content.decode()
    assert "爱尚花园提醒" in content
    assert "&lt;b&gt;张三&lt;/b&gt; {{ request }}" in content


def test_templates_of_another_company_answer_404(client, company):
    other = make_message_template(make_company())
    client.force_login(staff_with(company, ADMIN_PERMS))
    assert client.get(reverse("notifications:messagetemplate_edit", args=[other.pk])).status_code == 404


# -- 消息记录 ---------------------------------------------------------------------------------------

def test_the_message_log_shows_the_companys_messages_only_and_masks_mobiles(client, company, project):
    customer = make_customer(project, name="李四", mobile="13912345678")
    make_message(company, channel="sms", recipient=customer, address="13912345678", title="本公司账单")
    make_message(make_company(), channel="sms", title="别家账单")
    client.force_login(staff_with(company, CLERK_PERMS))
    content = client.get(reverse("notifications:message_list")).content.decode()
    assert "本公司账单" in content and "别家账单" not in content
    assert "139****5678" in content and "13912345678" not in content


def test_the_message_log_filters_by_channel_and_status_and_searches_recipients(client, company, project):
    make_message(company, channel="sms", recipient=make_customer(project, name="王五"), title="短信甲")
    make_message(company, channel="email", recipient=make_customer(project, name="赵六"), title="邮件乙",
                 status="failed")
    client.force_login(staff_with(company, CLERK_PERMS))
    url = reverse("notifications:message_list")
    content = client.get(url, {"channel": "email", "status": "failed"}).content.decode()
    assert "邮件乙" in content and "短信甲" not in content
    content = client.get(url, {"q": "王五"}).content.decode()
    assert "短信甲" in content and "邮件乙" not in content


def test_a_project_scoped_clerk_sees_only_messages_of_their_projects(client, company, project):
    elsewhere = make_project(company)
    mine = make_message(company, recipient=make_customer(project), channel="sms", title="我的项目")
    other = make_message(company, recipient=make_customer(elsewhere), channel="sms", title="别的项目")
    client.force_login(staff_with(company, CLERK_PERMS, projects=[project]))
    content = client.get(reverse("notifications:message_list")).content.decode()
    assert "我的项目" in content and "别的项目" not in content
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(other.get_absolute_url()).status_code == 404


def test_another_companys_message_answers_404(client, company):
    other = make_message(make_company(), channel="sms")
    client.force_login(staff_with(company, CLERK_PERMS))
    assert client.get(other.get_absolute_url()).status_code == 404


def test_the_message_log_needs_the_view_permission(client, company):
    client.force_login(make_staff(company, "cashier"))
    assert client.get(reverse("notifications:message_list")).status_code == 403


def test_a_failed_message_can_be_sent_again(client, company, project, django_capture_on_commit_callbacks):
    message = make_message(company, channel="sms", recipient=make_customer(project), address="13800138000",
                           status="failed", attempts=5, last_error="isv.BUSINESS_LIMIT_CONTROL")
    client.force_login(staff_with(company, CLERK_PERMS))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(message.get_absolute_url(), {"action": "resend"})
    message.refresh_from_db()
    assert (message.status, message.attempts, message.provider) == ("sent", 1, "development")


# -- inbox -----------------------------------------------------------------------------------------

def test_the_inbox_shows_my_in_app_messages_and_marks_them_read(client, company):
    me, colleague = make_staff(company, "cashier"), make_staff(company, "cashier")
    mine = make_message(company, recipient=me, title="给我的")
    make_message(company, recipient=colleague, title="给同事的")
    client.force_login(me)
    content = client.get(reverse("notifications:inbox")).content.decode()
    assert "给我的" in content and "给同事的" not in content
    assert 'data-testid="unread"' in content
    assert client.get(reverse("notifications:inbox_message", args=[mine.pk])).status_code == 200
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert 'data-testid="unread"' not in client.get(reverse("notifications:inbox")).content.decode()


def test_someone_elses_in_app_message_answers_404(client, company):
    colleague_message = make_message(company, recipient=make_staff(company, "cashier"))
    client.force_login(make_staff(company, "cashier"))
    assert client.get(reverse("notifications:inbox_message", args=[colleague_message.pk])).status_code == 404


def test_mark_all_read_and_the_badge(client, company):
    me = make_staff(company, "cashier")
    make_message(company, recipient=me)
    make_message(company, recipient=me)
    client.force_login(me)
    assert ">2<" in client.get(reverse("notifications:inbox_badge")).content.decode()
    client.post(reverse("notifications:inbox_mark_all_read"))
    assert "badge rounded-pill" not in client.get(reverse("notifications:inbox_badge")).content.decode()


# -- SMS account -----------------------------------------------------------------------------------

def test_the_sms_secret_is_never_shown_and_kept_when_left_blank(client, company):
    make_sms_config(company, access_key_secret="VerySecretValue123")
    client.force_login(staff_with(company, ADMIN_PERMS))
    url = reverse("notifications:smsproviderconfig_edit")
    content = client.get(url).content.decode()
    assert "VerySecretValue123" not in content and "Ver****23" in content
    response = client.post(url, {"kind": "aliyun", "access_key_id": "LTAI-new", "access_key_secret": "",
                                 "sign_name": "爱尚物业", "region": "", "app_id": "", "is_active": "on"})
    assert response.status_code == 302
    config = SmsProviderConfig.objects.get(company=company)
    assert (config.access_key_id, config.access_key_secret) == ("LTAI-new", "VerySecretValue123")


def test_the_sms_secret_stays_out_of_the_change_log(company):
    from aishang.extras.models import ObjectChange

    make_sms_config(company, access_key_secret="VerySecretValue123")
    assert ObjectChange.objects.filter(object_repr__contains=company.name).exists()
    assert not any("VerySecretValue123" in str(c.postchange_data) for c in ObjectChange.objects.all())


# -- API -------------------------------------------------------------------------------------------

def test_the_api_lists_the_callers_company_messages_and_hides_others(company, project):
    mine = make_message(company, channel="sms", recipient=make_customer(project), address="13912345678")
    other = make_message(make_company(), channel="sms")
    client = api_client(staff_with(company, CLERK_PERMS))
    response = client.get("/api/v1/messages/")
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [mine.pk]
    assert response.json()["results"][0]["address"] == "139****5678"
    assert client.get(f"/api/v1/messages/{other.pk}/").status_code == 404


def test_the_api_is_read_only(company):
    client = api_client(staff_with(company, CLERK_PERMS))
    assert client.post("/api/v1/messages/", {"title": "x"}, format="json").status_code in (403, 405)


def test_the_api_needs_the_view_permission(company):
    message = make_message(company, channel="sms")
    response = api_client(make_staff(company, "cashier")).get(f"/api/v1/messages/{message.pk}/")
    assert response.status_code in (403, 404)
