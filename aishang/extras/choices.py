from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ChangeAction(models.TextChoices):
    CREATE = "create", pgettext_lazy("change action", "新增")
    UPDATE = "update", pgettext_lazy("change action", "修改")
    DELETE = "delete", pgettext_lazy("change action", "删除")


class CustomFieldTarget(models.TextChoices):
    UNIT = "unit", _("房屋")
    CUSTOMER = "customer", _("客户")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("文本")
    INTEGER = "integer", _("整数")
    DECIMAL = "decimal", _("小数")
    DATE = "date", _("日期")
    CHOICE = "choice", _("单选")
    MULTI_CHOICE = "multichoice", _("多选")
    BOOLEAN = "boolean", _("是/否")


class AuditKind(models.TextChoices):
    PII_VIEW = "pii_view", _("查看个人信息明文")
    EXPORT = "export", _("导出")
    IMPORT = "import", _("导入")


class JobStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("进行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")
