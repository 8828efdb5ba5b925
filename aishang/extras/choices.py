from django.db import models


class ChangeAction(models.TextChoices):
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"


class CustomFieldTarget(models.TextChoices):
    UNIT = "unit", "房屋"
    CUSTOMER = "customer", "客户"


class CustomFieldType(models.TextChoices):
    TEXT = "text", "文本"
    INTEGER = "integer", "整数"
    DECIMAL = "decimal", "小数"
    DATE = "date", "日期"
    CHOICE = "choice", "单选"
    MULTI_CHOICE = "multichoice", "多选"
    BOOLEAN = "boolean", "是/否"


class AuditKind(models.TextChoices):
    PII_VIEW = "pii_view", "查看个人信息明文"
    EXPORT = "export", "导出"
    IMPORT = "import", "导入"


class JobStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "进行中"
    SUCCEEDED = "succeeded", "已完成"
    FAILED = "failed", "失败"
