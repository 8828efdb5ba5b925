"""Owner accounts: a 6-digit SMS code through the outbox, limited, hashed, short-lived, dead after 5 wrong tries;
signing in binds every unit a current occupancy lists the number for, in any company."""

import datetime

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils import timezone

from aishang.core.testing import make_company, make_customer, make_occupancy, make_owner, make_project, make_unit
from aishang.customers.models import OwnerAccount, OwnerBinding, OwnerLoginCode
from aishang.customers.owners import (
    SmsRateLimited,
    owner_for_token,
    owner_login_code_send,
    owner_sign_in_with_code,
    owner_token_issue,
    owner_token_revoke,
    owner_unit_ids,
)
from aishang.notifications.models import Message

pytestmark = pytest.mark.django_db

MOBILE = "13912345678"


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def unit():
    project = make_project(make_company())
    unit = make_unit(project)
    make_owner(unit, make_customer(project, name="王芳", mobile=MOBILE))
    return unit


def sent_code(mobile=MOBILE):
    message = Message.objects.filter(template_code="owner_login_code", address=mobile).latest("pk")
    return message.params["code"]


def test_a_code_goes_out_through_the_sms_outbox_and_only_its_hash_is_kept(unit):
    record = owner_login_code_send(mobile=MOBILE, ip_address="10.0.0.1")

    message = Message.objects.get(template_code="owner_login_code")
    code = message.params["code"]
    assert message.channel == "sms" and message.address == MOBILE
    assert len(code) == 6 and code.isdigit() and code in message.body
    assert code not in record.code_hash and len(record.code_hash) == 64
    assert record.expires_at - timezone.now() <= datetime.timedelta(minutes=5)


def test_signing_in_binds_every_unit_the_number_lives_in_across_companies(unit):
    other_project = make_project(make_company())
    other_unit = make_unit(other_project)
    make_occupancy(other_unit, make_customer(other_project, mobile=MOBILE), role="tenant")
    ended = make_unit(unit.project)
    make_occupancy(ended, make_customer(unit.project, mobile=MOBILE), end_date=datetime.date(2021, 1, 1))
    owner_login_code_send(mobile=MOBILE)

    account = owner_sign_in_with_code(mobile=MOBILE, code=sent_code())

    assert owner_unit_ids(account) == {unit.pk, other_unit.pk}
    assert OwnerBinding.objects.filter(account=account).count() == 2


def test_a_unit_sold_after_sign_in_is_out_of_reach_at_once(unit):
    owner_login_code_send(mobile=MOBILE)
    account = owner_sign_in_with_code(mobile=MOBILE, code=sent_code())
    unit.occupancies.update(end_date=timezone.localdate() - datetime.timedelta(days=1))

    assert owner_unit_ids(account) == set()


def test_a_number_nobody_recorded_gets_no_sms_and_the_same_answer(unit):
    assert owner_login_code_send(mobile="13700000000") is None
    assert not Message.objects.exists()


def test_one_code_a_minute_per_number(unit):
    owner_login_code_send(mobile=MOBILE)

    with pytest.raises(SmsRateLimited, match="1 分钟"):
        owner_login_code_send(mobile=MOBILE)
    assert OwnerLoginCode.objects.count() == 1


def test_a_number_gets_at_most_ten_codes_a_day(unit, settings):
    for _ in range(10):
        owner_login_code_send(mobile=MOBILE)
        cache.delete(f"owner-sms:minute:{MOBILE}")

    with pytest.raises(SmsRateLimited, match="今日"):
        owner_login_code_send(mobile=MOBILE)
    assert OwnerLoginCode.objects.count() == 10


def test_one_address_asking_for_many_numbers_is_stopped(unit, settings):
    settings.OWNER_SMS_LIMITS = {"per_day": 10, "per_ip_hour": 3}
    for n in range(3):
        owner_login_code_send(mobile=f"1370000000{n}", ip_address="10.0.0.9")

    with pytest.raises(SmsRateLimited, match="频繁"):
        owner_login_code_send(mobile=MOBILE, ip_address="10.0.0.9")
    assert owner_login_code_send(mobile=MOBILE, ip_address="10.0.0.10") is not None


def test_a_code_expires_after_five_minutes(unit):
    owner_login_code_send(mobile=MOBILE)
    OwnerLoginCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    with pytest.raises(ValidationError, match="过期"):
        owner_sign_in_with_code(mobile=MOBILE, code=sent_code())
    assert not OwnerAccount.objects.exists()


def test_a_code_dies_after_five_wrong_tries_even_when_the_right_one_follows(unit):
    owner_login_code_send(mobile=MOBILE)
    code = sent_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        with pytest.raises(ValidationError, match=f"还可以再试 {left} 次"):
            owner_sign_in_with_code(mobile=MOBILE, code=wrong)
    with pytest.raises(ValidationError, match="次数过多"):
        owner_sign_in_with_code(mobile=MOBILE, code=wrong)

    with pytest.raises(ValidationError, match="次数过多"):
        owner_sign_in_with_code(mobile=MOBILE, code=code)
    assert OwnerLoginCode.objects.get().failed_attempts == 5


def test_a_code_signs_in_once(unit):
    owner_login_code_send(mobile=MOBILE)
    code = sent_code()
    owner_sign_in_with_code(mobile=MOBILE, code=code)

    with pytest.raises(ValidationError):
        owner_sign_in_with_code(mobile=MOBILE, code=code)


def test_only_the_latest_code_counts(unit):
    owner_login_code_send(mobile=MOBILE)
    first = sent_code()
    cache.delete(f"owner-sms:minute:{MOBILE}")
    owner_login_code_send(mobile=MOBILE)
    latest = sent_code()
    if first == latest:
        pytest.skip("the two random codes happen to be equal")

    with pytest.raises(ValidationError):
        owner_sign_in_with_code(mobile=MOBILE, code=first)
    assert owner_sign_in_with_code(mobile=MOBILE, code=latest).mobile == MOBILE


def test_tokens_are_stored_hashed_expire_and_can_be_revoked(unit):
    account = OwnerAccount.objects.create(mobile=MOBILE)
    key, token = owner_token_issue(account)

    assert key not in token.key_hash
    assert owner_for_token(key) == account
    token.expires_at = timezone.now()
    token.save()
    assert owner_for_token(key) is None
    other_key, _ = owner_token_issue(account)
    owner_token_revoke(other_key)
    assert owner_for_token(other_key) is None


def test_the_limits_hold_in_redis_as_in_production(unit, settings):
    import uuid

    import redis
    from django.core.cache import caches

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/0", "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}
    settings.OWNER_SMS_LIMITS = {"per_day": 2, "per_ip_hour": 30}
    try:
        owner_login_code_send(mobile=MOBILE)
        with pytest.raises(SmsRateLimited, match="1 分钟"):
            owner_login_code_send(mobile=MOBILE)
        caches["default"].delete(f"owner-sms:minute:{MOBILE}")
        owner_login_code_send(mobile=MOBILE)
        caches["default"].delete(f"owner-sms:minute:{MOBILE}")
        with pytest.raises(SmsRateLimited, match="今日"):
            owner_login_code_send(mobile=MOBILE)
    finally:
        for key in (f"owner-sms:minute:{MOBILE}", f"owner-sms:day:{MOBILE}:{timezone.localdate():%Y%m%d}"):
            caches["default"].delete(key)
    assert OwnerLoginCode.objects.count() == 2
