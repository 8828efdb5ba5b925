"""The back office speaks Chinese by default and English when the user picks it (Django i18n, Chinese msgids)."""

import re
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import translation

from aishang.core.testing import make_company, make_customer, make_owner, make_project, make_staff, make_unit
from aishang.core.validators import validate_mobile
from aishang.estate.choices import UnitStatus
from aishang.estate.models import Unit

PO_FILE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")


@pytest.fixture
def estate(db):
    company = make_company()
    project = make_project(company)
    unit = make_unit(project, number="301")
    owner = make_customer(project, name="张三")
    make_owner(unit, owner)
    return {"company": company, "project": project, "unit": unit, "owner": owner,
            "staff": make_staff(company, projects=[project])}


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def menu(html):
    return re.search(r'<nav class="offcanvas-lg.*?</nav>', html, re.S).group(0)


# Pages in English


def test_the_home_page_and_the_menu_read_in_english(client, estate):
    client.force_login(estate["staff"])

    html = page(english(client), "/")

    assert '<html lang="en">' in html
    assert "My projects" in html and "Aishang Property" in html
    nav = menu(html)
    for label in ("Property", "Projects", "Buildings", "Units", "Parking spaces", "Customers", "Vehicles",
                  "Billing", "System settings", "Staff", "Custom fields", "Change log", "Soon"):
        assert label in nav, label
    for label in ("资源管理", "房屋", "楼栋", "客户管理", "系统设置", "即将上线"):
        assert label not in nav, label


def test_the_unit_list_reads_in_english(client, estate):
    client.force_login(estate["staff"])

    html = page(english(client), "/estate/units/")

    assert "<h1>Units" in html and "1 record" in html
    for text in ("Unit code", "Building", "Entrance", "Floor", "Property type", "Gross floor area (㎡)",
                 "Net floor area (㎡)", "Unit status", "Owner", "Layout", "Handover date", "Vacant", "张三",
                 "Search", "Reset", "Export to Excel", "Change status", "Not handed over", "Under fit-out"):
        assert text in html, text
    for text in ("房屋编码", "建筑面积", "房屋状态", "空置", "查询", "共 1 条"):
        assert text not in html, text


def test_a_unit_reads_in_english(client, estate):
    client.force_login(estate["staff"])
    unit = estate["unit"]

    html = page(english(client), f"/estate/units/{unit.pk}/")

    for text in ("Details", "Residents", "Custom fields", "Change log", "Location", "Entrance 1", "Floor 3",
                 "Gross / net floor area (㎡)", "Owner", "Payer", "Unit code", "Fit-out", "Layout", "Vacant",
                 "Floor plan", "Edit", "Transfer ownership"):
        assert text in html, text
    for text in ("基本信息", "住户", "楼盘图", "建筑面积", "空置", "过户", "1单元"):
        assert text not in html, text


def test_the_unit_residents_tab_reads_in_english(client, estate):
    client.force_login(estate["staff"])

    html = page(english(client), f"/estate/units/{estate['unit'].pk}/?tab=residents")

    for text in ("Role", "Customer", "Relation to owner", "Start date", "Owner", "Self", "Current"):
        assert text in html, text


def test_the_customer_list_reads_in_english(client, estate):
    client.force_login(estate["staff"])

    html = page(english(client), "/customers/customers/")

    assert "<h1>Customers" in html
    for text in ("Name", "Current units", "Mobile", "ID number", "Customer type", "Tags", "Move-in date",
                 "Individual", "Owner", "张三"):
        assert text in html, text
    for text in ("姓名/名称", "当前房屋", "客户类型", "个人", "业主", "共 1 条"):
        assert text not in html, text


def test_a_message_after_saving_reads_in_english(client, estate):
    client.force_login(estate["staff"])
    unit = estate["unit"]

    response = english(client).post("/estate/units/", {"action": "set_status", "status": "rented", "pk": [unit.pk]},
                                    follow=True)

    assert "Changed the status of 1 unit to “Rented”" in response.content.decode()


# The default stays Chinese


def test_without_a_choice_the_same_pages_stay_in_chinese(client, estate):
    client.force_login(estate["staff"])
    unit = estate["unit"]

    home = page(client, "/")
    units = page(client, "/estate/units/")
    detail = page(client, f"/estate/units/{unit.pk}/")
    customers = page(client, "/customers/customers/")

    assert '<html lang="zh-hans">' in home and "我的项目" in home
    assert "资源管理" in menu(home) and "房屋" in menu(home) and "Units" not in menu(home)
    assert "房屋编码" in units and "建筑面积(㎡)" in units and "空置" in units and "共 1 条" in units
    assert "Unit code" not in units and "Vacant" not in units
    assert "基本信息" in detail and "1单元" in detail and "3层" in detail and "Details" not in detail
    assert "姓名/名称" in customers and "个人" in customers and "Customer type" not in customers


def test_an_english_request_does_not_change_the_language_of_the_next_chinese_one(client, estate):
    client.force_login(estate["staff"])
    english(client).get("/estate/units/")
    client.cookies.pop(settings.LANGUAGE_COOKIE_NAME)

    assert "房屋编码" in page(client, "/estate/units/")


# Python strings


def test_model_labels_choices_and_messages_follow_the_active_language():
    assert str(Unit._meta.verbose_name) == "房屋" and str(UnitStatus.VACANT.label) == "空置"
    with pytest.raises(ValidationError, match="手机号格式不正确"):
        validate_mobile("123")
    with translation.override("en"):
        assert str(Unit._meta.verbose_name) == "Unit"
        assert str(Unit._meta.verbose_name_plural) == "Units"
        assert str(Unit._meta.get_field("inner_area").verbose_name) == "Net floor area (㎡)"
        assert [str(label) for label in UnitStatus.labels] == [
            "Not handed over", "Vacant", "Owner-occupied", "Rented", "Under fit-out"]
        with pytest.raises(ValidationError, match="Invalid mobile number"):
            validate_mobile("123")


@pytest.mark.django_db
def test_translated_labels_make_no_migrations():
    out = StringIO()

    call_command("makemigrations", check=True, dry_run=True, stdout=out)

    assert "No changes detected" in out.getvalue()


# The catalogue


def po_entries(path):
    """(msgctxt, msgid, [msgstr ...], flags) for every entry of a .po file."""
    entries, entry, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry and "msgid" in entry:
                entries.append(entry)
            entry, key = None, None
            continue
        entry = entry if entry is not None else {"flags": "", "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] += line
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?) "(.*)"$', line)
        if match:
            key, value = match.group(1), match.group(2)
        else:
            value = line.strip()[1:-1]
        text = re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)
        if key.startswith("msgstr"):
            entry["msgstr"][key] = entry["msgstr"].get(key, "") + text
        else:
            entry[key] = entry.get(key, "") + text
    return entries


def test_every_message_of_the_english_catalogue_is_translated():
    entries = [e for e in po_entries(PO_FILE) if e["msgid"]]

    assert len(entries) > 500
    untranslated = [e["msgid"] for e in entries if not e["msgstr"] or not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_po_file():
    import gettext

    with MO_FILE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)

    stale = []
    for entry in (e for e in po_entries(PO_FILE) if e["msgid"]):
        msgid = entry["msgid"] if "msgctxt" not in entry else f"{entry['msgctxt']}\x04{entry['msgid']}"
        if "msgid_plural" in entry:
            got = [catalog.ngettext(msgid, entry["msgid_plural"], n) for n in (1, 2)]
            expected = [entry["msgstr"]["msgstr[0]"], entry["msgstr"]["msgstr[1]"]]
        else:
            got, expected = catalog.gettext(msgid), entry["msgstr"]["msgstr"]
        if got != expected:
            stale.append(entry["msgid"])
    assert stale == [], "run: manage.py compilemessages -l en"
