"""一键分摊 on the run list page and over the API: preview all active rules of a project for a month, post them all."""

import pytest
from django.urls import reverse

from aishang.core.testing import api_client, make_company, make_project, make_staff
from aishang.meters.allocation_runs import allocation_post, allocation_preview, last_month
from aishang.meters.models import AllocationRun

from .allocation_factories import OCTOBER, delivered_units, meter, read, rule

pytestmark = pytest.mark.django_db
START, END = OCTOBER
PERIOD = {"period_start": "2026-10-01", "period_end": "2026-10-31"}


@pytest.fixture
def project():
    return make_project(make_company())


@pytest.fixture
def rules(project):
    """Two buildings' worth of rules: a public meter by area and a master meter's loss by usage."""
    units = delivered_units(project, 3)
    master, lighting = meter(project, role="master", name="1号楼总表"), meter(project, role="public", name="公区照明")
    read(lighting, 1200)
    read(master, 1000)
    for unit in units:
        read(meter(project, unit=unit, parent=master), 300)
    return [rule(project, lighting, name="公区照明公摊"),
            rule(project, master, name="1号楼损耗", purpose="loss", loss_method="usage")]


def test_the_run_list_offers_the_batch_form_with_last_month(client, project, rules):
    client.force_login(make_staff(project.company, "finance"))

    page = client.get(reverse("meters:allocationrun_list")).content.decode()

    assert 'data-testid="batch-form"' in page and "一键分摊" in page
    assert f'value="{last_month()[0]:%Y-%m}"' in page


def test_finance_previews_all_rules_of_a_month_then_posts_them_all(client, project, rules):
    client.force_login(make_staff(project.company, "finance"))

    previewed = client.post(reverse("meters:allocationrun_batch"), {"project": project.pk, "month": "2026-10"})

    assert previewed.status_code == 302
    page = client.get(previewed.url).content.decode()
    drafts = list(AllocationRun.objects.order_by("rule__name"))
    assert [run.status for run in drafts] == ["draft", "draft"]
    assert all(run.get_absolute_url() in page for run in drafts)
    assert "1200.00 kWh" in page and "100.00 kWh" in page and "全部入账" in page

    posted = client.post(reverse("meters:allocationrun_post_batch"), {"run": [run.pk for run in drafts]},
                         follow=True)

    assert "已入账 2 个分摊批次" in posted.content.decode()
    assert set(AllocationRun.objects.values_list("status", flat=True)) == {"posted"}
    again = client.get(previewed.url).content.decode()
    assert "另有 2 条规则本月已入账" in again
    nothing_left = client.post(reverse("meters:allocationrun_batch"), {"project": project.pk, "month": "2026-10"})
    assert nothing_left.status_code == 400 and "没有待分摊的启用规则" in nothing_left.content.decode()


def test_a_rule_that_cannot_be_computed_refuses_the_batch_naming_it(client, project, rules):
    rule(project, meter(project, role="public", name="地库照明"), name="地库公摊")
    client.force_login(make_staff(project.company, "finance"))

    response = client.post(reverse("meters:allocationrun_batch"), {"project": project.pk, "month": "2026-10"})

    assert response.status_code == 400
    assert "分摊规则「地库公摊」：" in response.content.decode() and "没有抄表读数" in response.content.decode()
    assert not AllocationRun.objects.exists()


def test_posting_a_batch_with_a_posted_run_posts_none_and_says_why(client, project, rules):
    finance = make_staff(project.company, "finance")
    drafts = [allocation_preview(rule=r, period_start=START, period_end=END, actor=finance) for r in rules]
    allocation_post(run=drafts[0], actor=finance)
    client.force_login(finance)

    response = client.post(reverse("meters:allocationrun_post_batch"), {"run": [run.pk for run in drafts]},
                           follow=True)

    assert f"分摊批次 #{drafts[0].pk}" in response.content.decode()
    assert AllocationRun.objects.get(pk=drafts[1].pk).status == "draft"


def test_another_projects_batch_is_not_found_and_a_steward_may_not_batch(client, project, rules):
    elsewhere = make_project(project.company)
    other_rule = rule(elsewhere, meter(elsewhere, role="public"))
    read(other_rule.meter, 10)
    delivered_units(elsewhere, 1)
    other_run = allocation_preview(rule=other_rule, period_start=START, period_end=END, actor=None)
    scoped = make_staff(project.company, "finance", projects=[project])
    client.force_login(scoped)

    assert client.post(reverse("meters:allocationrun_batch"),
                       {"project": elsewhere.pk, "month": "2026-10"}).status_code == 404
    assert client.get(reverse("meters:allocationrun_batch"),
                      {"project": elsewhere.pk, "month": "2026-10"}).status_code == 404
    assert client.post(reverse("meters:allocationrun_post_batch"), {"run": [other_run.pk]}).status_code == 404
    assert AllocationRun.objects.get(pk=other_run.pk).status == "draft"

    client.force_login(make_staff(project.company, "steward"))
    assert client.post(reverse("meters:allocationrun_batch"),
                       {"project": project.pk, "month": "2026-10"}).status_code == 403
    assert client.post(reverse("meters:allocationrun_post_batch"), {"run": [other_run.pk]}).status_code == 403
    assert 'data-testid="batch-form"' not in client.get(reverse("meters:allocationrun_list")).content.decode()


def test_the_api_previews_a_projects_rules_and_posts_the_drafts(project, rules):
    finance = api_client(make_staff(project.company, "finance"))

    previewed = finance.post("/api/v1/allocation-runs/batch/", {"project": project.pk, **PERIOD}, format="json")

    assert previewed.status_code == 201, previewed.json()
    runs = previewed.json()
    assert sorted((run["rule_name"], run["status"], run["total"]) for run in runs) == [
        ("1号楼损耗", "draft", "100.00"), ("公区照明公摊", "draft", "1200.00")]
    posted = finance.post("/api/v1/allocation-runs/post-batch/", {"runs": [run["id"] for run in runs]},
                          format="json")
    assert posted.status_code == 200 and {run["status"] for run in posted.json()} == {"posted"}

    again = finance.post("/api/v1/allocation-runs/post-batch/", {"runs": [runs[0]["id"]]}, format="json")
    assert again.status_code == 409 and "该分摊批次已入账，不能再入账" in again.json()["detail"]
    nothing = finance.post("/api/v1/allocation-runs/batch/", {"project": project.pk, **PERIOD}, format="json")
    assert nothing.status_code == 400 and "没有待分摊的启用规则" in str(nothing.json())


def test_the_api_refuses_in_chinese_outside_scope_and_without_rights(project, rules):
    rule(project, meter(project, role="public", name="地库照明"), name="地库公摊")
    finance = api_client(make_staff(project.company, "finance"))

    refused = finance.post("/api/v1/allocation-runs/batch/", {"project": project.pk, **PERIOD}, format="json")
    assert refused.status_code == 400 and "分摊规则「地库公摊」：" in str(refused.json())
    backwards = finance.post("/api/v1/allocation-runs/batch/",
                             {"project": project.pk, "period_start": "2026-10-31", "period_end": "2026-10-01"},
                             format="json")
    assert backwards.status_code == 400 and "期末不能早于期初" in str(backwards.json())
    assert not AllocationRun.objects.exists()

    outsider = api_client(make_staff(make_company(), "finance"))
    assert outsider.post("/api/v1/allocation-runs/batch/", {"project": project.pk, **PERIOD},
                         format="json").status_code == 404
    steward = api_client(make_staff(project.company, "steward"))
    denied = steward.post("/api/v1/allocation-runs/batch/", {"project": project.pk, **PERIOD}, format="json")
    assert denied.status_code == 403 and "没有新建分摊批次的权限" in denied.json()["detail"]
    assert steward.post("/api/v1/allocation-runs/post-batch/", {"runs": [1]}, format="json").status_code == 403
