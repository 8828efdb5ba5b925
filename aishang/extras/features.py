"""Model mixins that give a register object its shared features.

Kept free of concrete models so that any domain app can compose them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeLoggedModel(models.Model):
    """Every create, update and delete of a subclass is written to the change log.

    ``change_log_exclude`` names fields that are bookkeeping, not business data.
    """

    change_log_exclude = ("created_at", "updated_at")

    class Meta:
        abstract = True

    def get_scope_ids(self):
        """(company_id, project_id) the object belongs to, for scoping its log rows."""
        raise NotImplementedError(f"{type(self).__name__} must say which company and project it belongs to")


class CustomFieldsModel(models.Model):
    """Values of the company's own fields (个性化字段), validated by ``CustomField``."""

    custom_field_target = None
    custom_field_data = models.JSONField(_("自定义字段"), default=dict, blank=True)

    class Meta:
        abstract = True

    def custom_field_property_type_id(self):
        return None
