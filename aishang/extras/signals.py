from django.db.models.signals import post_save, pre_delete, pre_save
from django.dispatch import receiver

from .changelog import record_change, serialize_object
from .choices import ChangeAction
from .features import ChangeLoggedModel


def _is_logged(sender):
    return issubclass(sender, ChangeLoggedModel)


@receiver(pre_save)
def snapshot_before_save(sender, instance, raw=False, **kwargs):
    if raw or not _is_logged(sender) or instance._state.adding or instance.pk is None:
        return
    previous = sender._base_manager.filter(pk=instance.pk).first()
    instance._prechange_snapshot = serialize_object(previous) if previous is not None else None


@receiver(post_save)
def log_save(sender, instance, created, raw=False, **kwargs):
    if raw or not _is_logged(sender):
        return
    if created:
        record_change(instance, ChangeAction.CREATE)
    else:
        record_change(instance, ChangeAction.UPDATE, before=getattr(instance, "_prechange_snapshot", None))
    instance._prechange_snapshot = serialize_object(instance)


@receiver(pre_delete)
def log_delete(sender, instance, **kwargs):
    if not _is_logged(sender):
        return
    record_change(instance, ChangeAction.DELETE, before=serialize_object(instance))
