"""Owner accounts (业主端): sign-in by an SMS code or a linked WeChat identity, bearer tokens, and the units an
account is verified for.

An owner account is not a staff user: it has no company, roles or permissions, and reaches only the units a
current occupancy of a customer with its mobile number links it to, in whichever company. Codes and tokens are
kept as keyed hashes only, so a copy of the database signs nobody in.
"""

import datetime
import hashlib
import ipaddress
import secrets
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.compiled import CompiledQuery
from aishang.core.validators import validate_mobile

from .models import (
    Customer,
    Occupancy,
    OwnerAccount,
    OwnerBinding,
    OwnerLoginCode,
    OwnerToken,
    OwnerWechatIdentity,
)

LOGIN_CODE_TEMPLATE = "owner_login_code"
CODE_LIFETIME = datetime.timedelta(minutes=5)
MAX_WRONG_TRIES = 5
TOKEN_LIFETIME = datetime.timedelta(days=30)
WECHAT_ENDPOINT = "https://api.weixin.qq.com"


def _limit(name, default):
    return getattr(settings, "OWNER_SMS_LIMITS", {}).get(name, default)


class SmsRateLimited(Exception):
    """Too many codes asked for; ``message`` says when to try again."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class WechatNotLinked(Exception):
    """The mini program's user has not verified a mobile number yet."""


def _clean_mobile(mobile):
    mobile = (mobile or "").strip()
    try:
        validate_mobile(mobile)
    except ValidationError:
        raise ValidationError({"mobile": _("请输入 11 位手机号")}) from None
    return mobile


def _code_hash(mobile, code):
    return salted_hmac("aishang.owner-login-code", f"{mobile}:{code}", algorithm="sha256").hexdigest()


def _token_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()


def _current_occupancies(mobile):
    return Occupancy.objects.current().filter(customer__mobile=mobile)


def _count(key, seconds):
    """Add one to a counter that lives ``seconds``; returns the new count (atomic in Redis and locmem)."""
    if cache.add(key, 1, seconds):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, seconds)
        return 1


def _valid_ip(value):
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:  # a forwarded chain the deployment does not trust
        return None


def _check_rate_limits(mobile, ip_address):
    # The address first: one client cycling through numbers must not use up those numbers' own limits.
    if ip_address and _count(f"owner-sms:ip:{ip_address}", 60 * 60) > _limit("per_ip_hour", 30):
        raise SmsRateLimited(_("获取验证码过于频繁，请稍后再试"))
    if not cache.add(f"owner-sms:minute:{mobile}", 1, 60):
        raise SmsRateLimited(_("验证码已发送，请 1 分钟后再试"))
    if _count(f"owner-sms:day:{mobile}:{timezone.localdate():%Y%m%d}", 24 * 60 * 60) > _limit("per_day", 10):
        raise SmsRateLimited(_("该手机号今日获取验证码次数已达上限，请明天再试"))


def owner_login_code_send(*, mobile, ip_address=None):
    """Send a 6-digit sign-in code by SMS to a mobile number the property company recorded.

    Limited per number (one a minute, ``per_day`` a day) and per address (``per_ip_hour`` an hour); raises
    SmsRateLimited beyond. A number no current occupancy lists gets no SMS but the same answer, so the form does
    not tell strangers who lives where. Returns the code record, or None when nothing was sent.
    """
    from aishang.notifications.services import notify

    mobile = _clean_mobile(mobile)
    _check_rate_limits(mobile, ip_address)
    occupancy = (_current_occupancies(mobile).select_related("customer__project__company")
                 .order_by("-start_date", "-pk").first())
    if occupancy is None:
        return None
    code = f"{secrets.randbelow(10**6):06d}"
    customer = occupancy.customer
    with transaction.atomic():
        record = OwnerLoginCode.objects.create(mobile=mobile, code_hash=_code_hash(mobile, code),
                                               expires_at=timezone.now() + CODE_LIFETIME,
                                               ip_address=_valid_ip(ip_address))
        notify(company=customer.project.company, recipient=customer, channel="sms",
               template_code=LOGIN_CODE_TEMPLATE, params={"code": code, "minutes": CODE_LIFETIME.seconds // 60},
               dedupe_key=f"owner-login-code:{record.pk}", project=customer.project)
    return record


def _verify_code(mobile, code):
    """None when the code is right (and now used), else the message to show; a wrong try is counted and kept."""
    now = timezone.now()
    with transaction.atomic():
        # Locked so that two guesses at once both count, and a right code signs in once.
        record = (OwnerLoginCode.objects.select_for_update().filter(mobile=mobile, used_at__isnull=True)
                  .order_by("-created_at", "-pk").first())
        if record is None or record.expires_at <= now:
            return _("验证码已过期，请重新获取")
        if record.failed_attempts >= MAX_WRONG_TRIES:
            return _("验证码错误次数过多，请重新获取")
        if not constant_time_compare(record.code_hash, _code_hash(mobile, code)):
            record.failed_attempts += 1
            record.save(update_fields=["failed_attempts"])
            left = MAX_WRONG_TRIES - record.failed_attempts
            if left <= 0:
                return _("验证码错误次数过多，请重新获取")
            return _("验证码错误，还可以再试 %(left)s 次") % {"left": left}
        record.used_at = now
        record.save(update_fields=["used_at"])
    return None


def owner_bindings_refresh(account):
    """Bind the account to every unit a current occupancy of a customer with its mobile lists; drop the rest."""
    now = timezone.now()
    wanted = set(_current_occupancies(account.mobile).values_list("unit_id", "customer_id"))
    with transaction.atomic():
        existing = {(b.unit_id, b.customer_id): b.pk for b in OwnerBinding.objects.filter(account=account)}
        OwnerBinding.objects.filter(pk__in=[pk for key, pk in existing.items() if key not in wanted]).delete()
        OwnerBinding.objects.filter(pk__in=[pk for key, pk in existing.items() if key in wanted]).update(
            verified_at=now)
        OwnerBinding.objects.bulk_create([
            OwnerBinding(account=account, unit_id=unit_id, customer_id=customer_id, verified_at=now)
            for unit_id, customer_id in wanted - set(existing)], ignore_conflicts=True)
    return len(wanted)


def _signed_in(account):
    if not owner_bindings_refresh(account):
        raise ValidationError({"mobile": _("该手机号未登记在任何房屋下，请联系物业服务中心")})
    OwnerAccount.objects.filter(pk=account.pk).update(last_login_at=timezone.now())
    return account


def owner_sign_in_with_code(*, mobile, code):
    """The account of a mobile number whose latest code is right, unexpired and not dead; raises ValidationError."""
    mobile = _clean_mobile(mobile)
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        raise ValidationError({"code": _("请输入 6 位数字验证码")})
    problem = _verify_code(mobile, code)
    if problem:
        raise ValidationError({"code": problem})
    try:
        account, _created = OwnerAccount.objects.get_or_create(mobile=mobile)
    except IntegrityError:  # the same owner signing in on two phones at the same moment
        account = OwnerAccount.objects.get(mobile=mobile)
    if not account.is_active:
        raise ValidationError({"mobile": _("该账号已停用，请联系物业服务中心")})
    return _signed_in(account)


# Bearer tokens of the owner API; the H5 pages keep one in the session.


def owner_token_issue(account):
    """(the key, shown once: only its hash is kept; the token row) for the account."""
    key = secrets.token_urlsafe(32)
    token = OwnerToken.objects.create(account=account, key_hash=_token_hash(key),
                                      expires_at=timezone.now() + TOKEN_LIFETIME)
    return key, token


def owner_for_token(key):
    """The active account a live token belongs to, or None. Every owner API request asks, so the read is compiled
    once (ADR 0027)."""
    if not key:
        return None
    found = _TOKEN_ACCOUNT.rows(OwnerAccount.objects.all(), key_hash=_token_hash(key))
    if not found or found[0][0] <= timezone.now():
        return None
    return OwnerAccount.from_db(DEFAULT_DB_ALIAS, _ACCOUNT_FIELDS, found[0][1:])


_ACCOUNT_FIELDS = [field.attname for field in OwnerAccount._meta.concrete_fields]
_TOKEN_ACCOUNT = CompiledQuery(lambda accounts, key_hash: accounts.filter(
    is_active=True, tokens__key_hash=key_hash, tokens__revoked_at__isnull=True,
).values_list("tokens__expires_at", *_ACCOUNT_FIELDS)[:1])


def owner_token_revoke(key):
    return OwnerToken.objects.filter(key_hash=_token_hash(key or ""), revoked_at__isnull=True).update(
        revoked_at=timezone.now())


# WeChat mini program login: js_code → openid by code2session, linked to a verified account.


@dataclass(frozen=True)
class WechatSession:
    openid: str
    unionid: str


WECHAT_ERRORS = {
    40029: gettext_lazy("微信登录凭证无效，请重新登录"),
    40163: gettext_lazy("微信登录凭证已使用，请重新登录"),
    45011: gettext_lazy("微信登录过于频繁，请稍后再试"),
    40226: gettext_lazy("该微信用户存在风险，暂不能登录"),
}


def wechat_code2session(config, js_code):
    """``GET /sns/jscode2session?appid&secret&js_code&grant_type=authorization_code`` at the config's endpoint."""
    from aishang.notifications.backends import DeliveryError
    from aishang.notifications.backends.http import request_json

    endpoint = (config.endpoint or WECHAT_ENDPOINT).rstrip("/")
    query = urllib.parse.urlencode({"appid": config.app_id, "secret": config.app_secret, "js_code": js_code,
                                    "grant_type": "authorization_code"})
    try:
        _status, body = request_json(f"{endpoint}/sns/jscode2session?{query}")
    except DeliveryError:
        raise ValidationError({"code": _("暂时无法连接微信服务，请稍后再试")}) from None
    errcode = body.get("errcode") or 0
    if errcode or not body.get("openid"):
        raise ValidationError({"code": str(WECHAT_ERRORS.get(errcode, _("微信登录失败（%(code)s），请稍后再试")
                                                              % {"code": errcode}))})
    return WechatSession(openid=str(body["openid"]), unionid=str(body.get("unionid") or ""))


def owner_sign_in_with_wechat(*, app_id, js_code, account=None):
    """Sign in the account the mini program user's openid is linked to; with ``account`` (signed in by SMS code
    already) link the openid to it first. Raises WechatNotLinked for an openid nobody linked yet."""
    from aishang.notifications.models import WechatAppConfig

    config = WechatAppConfig.objects.filter(app_id=(app_id or "").strip(), is_active=True).first()
    if config is None:
        raise ValidationError({"app_id": _("未知的小程序，请联系物业服务中心")})
    if not (js_code or "").strip():
        raise ValidationError({"code": _("缺少微信登录凭证")})
    session = wechat_code2session(config, js_code.strip())
    identity = OwnerWechatIdentity.objects.select_related("account").filter(
        app_id=config.app_id, openid=session.openid).first()
    if identity is None:
        if account is None:
            raise WechatNotLinked()
        try:
            with transaction.atomic():
                identity = OwnerWechatIdentity.objects.create(account=account, app_id=config.app_id,
                                                              openid=session.openid, unionid=session.unionid)
        except IntegrityError:  # linked by a parallel request a moment ago
            identity = OwnerWechatIdentity.objects.select_related("account").get(app_id=config.app_id,
                                                                                 openid=session.openid)
    if account is not None and identity.account_id != account.pk:
        raise ValidationError({"code": _("该微信已绑定其他手机号")})
    if not identity.account.is_active:
        raise ValidationError({"code": _("该账号已停用，请联系物业服务中心")})
    return _signed_in(identity.account)


# What an account may reach: the units of its bindings that a current occupancy still backs.


def _live_bindings(account):
    backed = Occupancy.objects.current().filter(unit_id=OuterRef("unit_id"), customer_id=OuterRef("customer_id"),
                                                customer__mobile=account.mobile)
    return OwnerBinding.objects.filter(account=account).filter(Exists(backed))


def owner_unit_ids(account):
    return set(_live_bindings(account).values_list("unit_id", flat=True))


def owner_customer_ids(account):
    return set(_live_bindings(account).values_list("customer_id", flat=True))


def _bound_occupancies(occupancies, account_id, day):
    bound = OwnerBinding.objects.filter(account_id=account_id, unit_id=OuterRef("unit_id"),
                                        customer_id=OuterRef("customer_id"))
    mobile = OwnerAccount.objects.filter(pk=account_id).values("mobile")
    return occupancies.current(day).filter(customer__mobile=Subquery(mobile)).filter(Exists(bound))


_OCCUPANCY_STARTS = CompiledQuery(lambda occupancies, account, day: _bound_occupancies(occupancies, account, day)
                                  .values_list("unit_id", "customer_id", "start_date"))


def owner_occupancy_starts(account, day=None):
    """(unit id, customer id, start date) of the current occupancies behind the account's live bindings: its units,
    its customers and since when, at once, as plain rows."""
    return _OCCUPANCY_STARTS.rows(Occupancy.objects.all(), account=account.pk, day=day or timezone.localdate())


def owner_customers(account):
    return Customer.objects.filter(pk__in=owner_customer_ids(account))
