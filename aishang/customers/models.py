import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aishang.core.masking import mask_id_number, mask_phone
from aishang.core.models import ScopedModel
from aishang.core.querysets import RestrictedQuerySet
from aishang.core.validators import validate_mobile, validate_resident_id
from aishang.estate.models import ParkingSpace, Project, Unit
from aishang.extras.choices import CustomFieldTarget
from aishang.extras.features import ChangeLoggedModel, CustomFieldsModel

from .choices import CustomerKind, Gender, IdType, OccupancyRole, Relation, VehicleKind

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领"
PLATE_RE = re.compile(rf"^[{PROVINCES}][A-Z][A-HJ-NP-Z0-9]{{4,5}}[A-HJ-NP-Z0-9挂学警港澳]$")


class Customer(CustomFieldsModel, ChangeLoggedModel, ScopedModel):
    """业主, 租户, 住户 or 家庭成员 of a project: a person or an organisation (shop, office tenant).

    What a customer is to a unit (owner, tenant ...) lives on ``Occupancy``, with its dates.
    """

    scope_project_path = "project"
    custom_field_target = CustomFieldTarget.CUSTOMER
    pii_permission = "customers.view_customer_pii"
    pii_fields = {"mobile": mask_phone, "id_number": mask_id_number, "phone": mask_phone,
                  "emergency_phone": mask_phone}

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="customers")
    kind = models.CharField(_("客户类型"), max_length=20, choices=CustomerKind.choices, default=CustomerKind.PERSON)
    name = models.CharField(_("姓名/名称"), max_length=100, db_index=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, db_index=True, validators=[validate_mobile])
    phone = models.CharField(_("其他电话"), max_length=30, blank=True)
    id_type = models.CharField(_("证件类型"), max_length=20, choices=IdType.choices, blank=True)
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    occupation = models.CharField(_("职业"), max_length=50, blank=True)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    move_in_date = models.DateField(_("入住时间"), null=True, blank=True)
    emergency_contact = models.CharField(_("紧急联系人"), max_length=30, blank=True)
    emergency_phone = models.CharField(_("紧急联系电话"), max_length=30, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    tags = models.JSONField(_("标签"), default=list, blank=True)
    notes = models.TextField(_("备注"), blank=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = pgettext_lazy("plural", "客户")
        ordering = ["project", "name", "id"]
        permissions = [("view_customer_pii", _("查看客户手机号、证件号明文")), ("export_customer", _("导出客户"))]
        indexes = [models.Index(fields=["project", "mobile"])]

    def __str__(self):
        return self.name

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    @property
    def masked_mobile(self):
        return mask_phone(self.mobile)

    @property
    def masked_id_number(self):
        return mask_id_number(self.id_number)

    def clean(self):
        errors = {}
        if self.id_number and not self.id_type:
            errors["id_type"] = gettext("填写证件号码时须选择证件类型")
        if self.id_type == IdType.RESIDENT_ID and self.id_number:
            self.id_number = self.id_number.strip().upper()
            try:
                validate_resident_id(self.id_number)
            except ValidationError as exc:
                errors["id_number"] = exc.messages
        if self.id_type == IdType.BUSINESS_LICENSE and self.id_number and len(self.id_number) != 18:
            errors["id_number"] = gettext("统一社会信用代码应为 18 位")
        if not isinstance(self.tags, list) or not all(isinstance(t, str) for t in self.tags):
            errors["tags"] = gettext("标签应为文字列表")
        if errors:
            raise ValidationError(errors)


class OccupancyQuerySet(RestrictedQuerySet):
    def current(self, on=None):
        on = on or timezone.localdate()
        started = Q(start_date__isnull=True) | Q(start_date__lte=on)
        not_ended = Q(end_date__isnull=True) | Q(end_date__gte=on)
        return self.filter(started, not_ended)


class Occupancy(ChangeLoggedModel, ScopedModel):
    """Who owns, rents or lives in a unit, from when to when. Ended rows stay as history."""

    scope_project_path = "unit__project"

    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="occupancies")
    customer = models.ForeignKey(Customer, verbose_name=_("客户"), on_delete=models.PROTECT, related_name="occupancies")
    role = models.CharField(_("身份"), max_length=20, choices=OccupancyRole.choices)
    relation = models.CharField(_("与业主关系"), max_length=20, choices=Relation.choices, default=Relation.SELF)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    is_payer = models.BooleanField(_("缴费人"), default=False)
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    objects = OccupancyQuerySet.as_manager()

    class Meta:
        verbose_name = _("入住关系")
        verbose_name_plural = pgettext_lazy("plural", "入住关系")
        ordering = ["unit", "role", "-start_date", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(start_date__isnull=True)
                                   | Q(end_date__gte=models.F("start_date")), name="occupancy_dates_in_order"),
        ]

    def __str__(self):
        return f"{self.unit} {self.get_role_display()} {self.customer}"

    def get_scope_ids(self):
        return self.unit.project.company_id, self.unit.project_id

    @property
    def is_current(self):
        today = timezone.localdate()
        started = self.start_date is None or self.start_date <= today
        return started and (self.end_date is None or self.end_date >= today)

    def clean(self):
        errors = {}
        if self.unit_id and self.customer_id and self.unit.project_id != self.customer.project_id:
            errors["customer"] = gettext("客户与房屋不属于同一项目")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = gettext("结束日期不能早于开始日期")
        if errors:
            raise ValidationError(errors)


class Vehicle(ChangeLoggedModel, ScopedModel):
    scope_project_path = "project"

    project = models.ForeignKey(Project, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="vehicles")
    customer = models.ForeignKey(Customer, verbose_name=_("车主"), null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="vehicles")
    plate = models.CharField(_("车牌号"), max_length=10)
    kind = models.CharField(_("车辆类型"), max_length=20, choices=VehicleKind.choices, default=VehicleKind.FUEL)
    brand = models.CharField(_("品牌型号"), max_length=50, blank=True)
    color = models.CharField(_("颜色"), max_length=20, blank=True)
    parking_space = models.ForeignKey(ParkingSpace, verbose_name=_("车位"), null=True, blank=True,
                                      on_delete=models.SET_NULL, related_name="vehicles")
    notes = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("车辆")
        verbose_name_plural = pgettext_lazy("plural", "车辆")
        ordering = ["project", "plate"]
        constraints = [models.UniqueConstraint(fields=["project", "plate"], name="vehicle_unique_plate")]

    def __str__(self):
        return self.plate

    def get_scope_ids(self):
        return self.project.company_id, self.project_id

    def clean(self):
        errors = {}
        self.plate = (self.plate or "").strip().upper()
        if not PLATE_RE.match(self.plate):
            errors["plate"] = gettext("车牌号格式不正确，例如 粤B12345 或 粤BD12345")
        if self.customer_id and self.project_id and self.customer.project_id != self.project_id:
            errors["customer"] = gettext("车主不属于该项目")
        if self.parking_space_id and self.project_id and self.parking_space.project_id != self.project_id:
            errors["parking_space"] = gettext("车位不属于该项目")
        if errors:
            raise ValidationError(errors)


# Owner accounts (业主端): separate from staff users; an owner reaches only the units bound to the account.


class OwnerAccount(models.Model):
    """An owner's sign-in: one per mobile number verified by an SMS code, across companies."""

    mobile = models.CharField(_("手机号"), max_length=11, unique=True, validators=[validate_mobile])
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    last_login_at = models.DateTimeField(_("最近登录"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("业主账号")
        ordering = ["id"]

    def __str__(self):
        return mask_phone(self.mobile)

    # An owner is never a staff user: staff checks (permissions, scope) answer "no" for it.
    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    is_staff = False

    def has_perm(self, perm, obj=None):
        return False


class OwnerBinding(models.Model):
    """A unit the account was verified for at sign-in: a current occupancy of a customer with its mobile."""

    account = models.ForeignKey(OwnerAccount, verbose_name=_("业主账号"), on_delete=models.CASCADE,
                                related_name="bindings")
    unit = models.ForeignKey(Unit, verbose_name=_("房屋"), on_delete=models.CASCADE, related_name="owner_bindings")
    customer = models.ForeignKey(Customer, verbose_name=_("客户"), on_delete=models.CASCADE,
                                 related_name="owner_bindings")
    verified_at = models.DateTimeField(_("验证时间"))

    class Meta:
        verbose_name = verbose_name_plural = _("业主绑定房屋")
        ordering = ["account", "unit"]
        constraints = [models.UniqueConstraint(fields=["account", "unit", "customer"],
                                               name="owner_binding_unique")]

    def __str__(self):
        return f"{self.account} {self.unit}"


class OwnerLoginCode(models.Model):
    """A 6-digit SMS code, kept only as a keyed hash; it expires and dies after too many wrong tries."""

    mobile = models.CharField(_("手机号"), max_length=11, db_index=True)
    code_hash = models.CharField(_("验证码摘要"), max_length=64)
    created_at = models.DateTimeField(_("发送时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    failed_attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    ip_address = models.GenericIPAddressField(_("请求地址"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("登录验证码")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["mobile", "-created_at"], name="owner_code_recent")]

    def __str__(self):
        return f"{mask_phone(self.mobile)} {self.created_at:%Y-%m-%d %H:%M:%S}"


class OwnerToken(models.Model):
    """A bearer token of the owner API (``Authorization: Bearer <token>``), stored as its SHA-256."""

    account = models.ForeignKey(OwnerAccount, verbose_name=_("业主账号"), on_delete=models.CASCADE,
                                related_name="tokens")
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("签发时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("过期时间"))
    revoked_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = _("业主令牌")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.account} {self.created_at:%Y-%m-%d %H:%M:%S}"


class OwnerWechatIdentity(models.Model):
    """The openid a company's mini program knows the owner by, linked after the owner verified the mobile."""

    account = models.ForeignKey(OwnerAccount, verbose_name=_("业主账号"), on_delete=models.CASCADE,
                                related_name="wechat_identities")
    app_id = models.CharField(_("小程序 AppID"), max_length=40)
    openid = models.CharField(_("openid"), max_length=64)
    unionid = models.CharField(_("unionid"), max_length=64, blank=True)
    linked_at = models.DateTimeField(_("绑定时间"), auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = _("业主微信身份")
        ordering = ["account", "app_id"]
        constraints = [models.UniqueConstraint(fields=["app_id", "openid"], name="owner_wechat_unique_openid")]

    def __str__(self):
        return f"{self.account} {self.app_id}"
