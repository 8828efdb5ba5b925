import datetime
import decimal
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from aishang.core.querysets import RestrictedQuerySet

from .choices import AuditKind, ChangeAction, CustomFieldTarget, CustomFieldType, JobStatus


class ObjectChangeQuerySet(RestrictedQuerySet):
    def within_scope(self, user):
        if user.is_superuser:
            return self
        if not user.company_id:
            return self.none()
        if user.scope_all_projects:
            return self.filter(company_id=user.company_id)
        return self.filter(project_id__in=user.permitted_project_ids())


class ObjectChange(models.Model):
    """One create, update or delete of a register object, with the values before and after."""

    time = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(_("操作人"), max_length=150, blank=True)
    request_id = models.UUIDField(_("请求编号"), null=True, blank=True, db_index=True)
    source = models.CharField(_("来源"), max_length=20, blank=True)
    remote_addr = models.CharField(_("IP 地址"), max_length=45, blank=True)
    action = models.CharField(_("操作"), max_length=10, choices=ChangeAction.choices)
    # Plain ids without constraints: the log outlives the objects it describes.
    company = models.ForeignKey("estate.Company", null=True, blank=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    project = models.ForeignKey("estate.Project", null=True, blank=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    object_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.PROTECT, related_name="+")
    object_id = models.BigIntegerField(_("对象编号"))
    object_repr = models.CharField(_("对象"), max_length=200)
    prechange_data = models.JSONField(_("修改前"), null=True, blank=True)
    postchange_data = models.JSONField(_("修改后"), null=True, blank=True)

    objects = ObjectChangeQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = _("变更记录")
        ordering = ["-time", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-time"])]

    def __str__(self):
        return f"{self.get_action_display()} {self.object_repr}"

    def diff(self, viewer=None):
        """[(label, before, after)] for every field whose value changed, in the model's order."""
        from .changelog import diff_rows

        return diff_rows(self, viewer=viewer)


class AuditEvent(models.Model):
    """A sensitive read or bulk operation: who saw unmasked personal data, who exported what."""

    time = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_name = models.CharField(_("操作人"), max_length=150, blank=True)
    request_id = models.UUIDField(_("请求编号"), null=True, blank=True)
    remote_addr = models.CharField(_("IP 地址"), max_length=45, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=AuditKind.choices)
    company = models.ForeignKey("estate.Company", null=True, on_delete=models.DO_NOTHING,
                                db_constraint=False, related_name="+")
    object_type = models.ForeignKey("contenttypes.ContentType", null=True, on_delete=models.PROTECT,
                                    related_name="+")
    object_ids = models.JSONField(_("对象编号"), default=list)
    detail = models.JSONField(_("详情"), default=dict)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = pgettext_lazy("plural", "审计事件")
        ordering = ["-time", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} {self.user_name}"


CUSTOM_FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


class CustomFieldQuerySet(RestrictedQuerySet):
    def for_object(self, obj):
        """The fields an object of this company (and property type, for units) carries."""
        company_id, _ = obj.get_scope_ids()
        fields = self.filter(company_id=company_id, target=obj.custom_field_target)
        property_type_id = obj.custom_field_property_type_id()
        return fields.filter(models.Q(property_type__isnull=True) | models.Q(property_type_id=property_type_id))

    def for_target(self, company_id, target):
        return self.filter(company_id=company_id, target=target)


class CustomField(models.Model):
    """A field a company adds to its units or customers (兴趣爱好, 维护周期 ...)."""

    scope_company_path = "company"

    company = models.ForeignKey("estate.Company", verbose_name=_("企业"), on_delete=models.CASCADE,
                                related_name="custom_fields")
    target = models.CharField(_("适用对象"), max_length=20, choices=CustomFieldTarget.choices)
    property_type = models.ForeignKey("estate.PropertyType", verbose_name=_("业态"), null=True, blank=True,
                                      on_delete=models.CASCADE, related_name="custom_fields",
                                      help_text=_("留空表示适用于所有业态（仅对房屋有效）"))
    name = models.CharField(_("字段编码"), max_length=50, help_text=_("小写字母开头，只含小写字母、数字和下划线"))
    label = models.CharField(_("字段名称"), max_length=50)
    field_type = models.CharField(_("类型"), max_length=20, choices=CustomFieldType.choices,
                                  default=CustomFieldType.TEXT)
    required = models.BooleanField(_("必填"), default=False)
    choices = models.JSONField(_("选项"), default=list, blank=True, help_text=_("单选、多选的可选值"))
    help_text = models.CharField(_("说明"), max_length=200, blank=True)
    filterable = models.BooleanField(_("可筛选"), default=True)
    owner_visible = models.BooleanField(_("业主可见"), default=False,
                                        help_text=_("勾选后业主在业主端（小程序、手机网页）可看到该字段"))
    weight = models.PositiveSmallIntegerField(_("排序"), default=100)

    objects = CustomFieldQuerySet.as_manager()

    class Meta:
        verbose_name = pgettext_lazy("singular", "自定义字段")
        verbose_name_plural = _("自定义字段")
        ordering = ["target", "weight", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "target", "name"], name="custom_field_unique_name"),
        ]

    def __str__(self):
        return self.label

    def get_scope_ids(self):
        return self.company_id, None

    def clean(self):
        if not CUSTOM_FIELD_NAME_RE.match(self.name or ""):
            raise ValidationError({"name": gettext("字段编码须以小写字母开头，只含小写字母、数字和下划线")})
        has_choices = bool(self.choices) and all(isinstance(c, str) and c.strip() for c in self.choices)
        if self.field_type in (CustomFieldType.CHOICE, CustomFieldType.MULTI_CHOICE) and not has_choices:
            raise ValidationError({"choices": gettext("单选、多选字段至少需要一个选项")})
        if self.property_type_id and self.target != CustomFieldTarget.UNIT:
            raise ValidationError({"property_type": gettext("只有房屋字段可以按业态区分")})

    def clean_value(self, raw):
        """Turn user input (form, API, spreadsheet) into the stored JSON value, or refuse it."""
        from .customfields import clean_custom_value

        return clean_custom_value(self, raw)

    def display(self, value):
        from .customfields import display_custom_value

        return display_custom_value(self, value)


class JobQuerySet(RestrictedQuerySet):
    def within_scope(self, user):
        if user.is_superuser:
            return self
        return self.filter(created_by=user)


class Job(models.Model):
    """A long piece of work (import, export, bill run) that reports its progress."""

    kind = models.CharField(_("类型"), max_length=40)
    title = models.CharField(_("名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=20, choices=JobStatus.choices, default=JobStatus.PENDING)
    company = models.ForeignKey("estate.Company", null=True, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("estate.Project", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    total = models.PositiveIntegerField(_("总数"), default=0)
    done = models.PositiveIntegerField(_("已处理"), default=0)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    input_file = models.FileField(_("上传文件"), upload_to="jobs/%Y/%m/", blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    result = models.JSONField(_("结果"), default=dict, blank=True)
    errors = models.JSONField(_("错误"), default=list, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = _("后台任务")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title

    @property
    def percent(self):
        if self.status == JobStatus.SUCCEEDED:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0

    @property
    def is_finished(self):
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


def json_safe(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, FieldFile):  # an uploaded file is logged by its stored name
        return value.name or ""
    return value
