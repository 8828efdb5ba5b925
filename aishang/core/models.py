from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .querysets import RestrictedManager


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ScopedModel(TimeStampedModel):
    """A register object reachable only within the actor's company and projects."""

    objects = RestrictedManager()

    class Meta:
        abstract = True

    def get_absolute_url(self):
        meta = self._meta
        return reverse(f"{meta.app_label}:{meta.model_name}_detail", kwargs={"pk": self.pk})
