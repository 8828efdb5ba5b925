import pytest

from aishang.core.testing import make_company, make_staff

pytestmark = pytest.mark.django_db


def test_the_back_office_opens_in_chinese_even_for_an_english_browser(client):
    client.force_login(make_staff(make_company()))

    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")

    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in response.content.decode()


def test_a_chosen_language_is_kept(client):
    client.force_login(make_staff(make_company()))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})

    assert client.get("/")["Content-Language"] == "en"
