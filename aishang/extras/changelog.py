"""Snapshots and diffs of register objects for the change log."""

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import translation
from django.utils.translation import gettext

from aishang.core.context import current_context

from .choices import ChangeAction
from .models import ObjectChange, json_safe


def _source_language_str(obj):
    """The log stores text in the source language, whatever language the editor uses."""
    with translation.override(None):
        return str(obj)


def serialize_object(obj):
    """The business values of an object, JSON-safe, keyed by field name.

    Foreign keys are stored as the related object's text so the log reads well after the
    related object is renamed or gone; custom fields are stored as ``cf.<name>``.
    """
    data = {}
    exclude = set(getattr(obj, "change_log_exclude", ("created_at", "updated_at")))
    for field in obj._meta.concrete_fields:
        if field.primary_key or field.name in exclude or field.name == "custom_field_data":
            continue
        if isinstance(field, models.ForeignKey):
            related_id = getattr(obj, field.attname)
            data[field.name] = _source_language_str(getattr(obj, field.name)) if related_id is not None else None
        else:
            data[field.name] = json_safe(field.value_from_object(obj))
    for name, value in (getattr(obj, "custom_field_data", None) or {}).items():
        data[f"cf.{name}"] = json_safe(value)
    return data


def _actor_fields():
    context = current_context()
    actor = context.actor
    return {
        "user": actor if actor is not None and getattr(actor, "pk", None) else None,
        "user_name": (actor.get_username() if actor is not None and getattr(actor, "pk", None) else "系统"),
        "request_id": context.request_id,
        "source": context.source,
        "remote_addr": context.remote_addr,
    }


def build_change(obj, action, before, after):
    company_id, project_id = obj.get_scope_ids()
    return ObjectChange(
        action=action,
        company_id=company_id,
        project_id=project_id,
        object_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=obj.pk,
        object_repr=_source_language_str(obj)[:200],
        prechange_data=before,
        postchange_data=after,
        **_actor_fields(),
    )


def record_change(obj, action, before=None):
    after = serialize_object(obj) if action != ChangeAction.DELETE else None
    if action == ChangeAction.UPDATE and before == after:
        return None
    change = build_change(obj, action, before, after)
    change.save()
    return change


def record_bulk_create(objects):
    """For bulk paths (imports) that skip model signals: one log row per created object."""
    ObjectChange.objects.bulk_create(
        [build_change(obj, ChangeAction.CREATE, None, serialize_object(obj)) for obj in objects],
        batch_size=1000,
    )


def diff_rows(change, viewer=None):
    """Rows of (label, before, after). Personal data is masked unless the viewer may see it."""
    before = change.prechange_data or {}
    after = change.postchange_data or {}
    model = change.object_type.model_class()
    masks = {}
    if model is not None and viewer is not None and not viewer.has_perm(getattr(model, "pii_permission", "")):
        masks = getattr(model, "pii_fields", {})
    labels, displays = {}, {}
    if model is not None:
        for field in (*model._meta.concrete_fields, *model._meta.many_to_many):
            labels[field.name] = str(field.verbose_name)
            if field.choices:
                displays[field.name] = {str(k): str(v) for k, v in field.flatchoices}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    rows = []
    for key in keys:
        old, new = before.get(key), after.get(key)
        if change.action == ChangeAction.UPDATE and old == new:
            continue
        label = labels.get(key) or _custom_field_label(change, key)
        mapping = displays.get(key, {})
        if key in masks:
            old, new = (masks[key](str(value)) if value else value for value in (old, new))
        rows.append((label, _display(old, mapping), _display(new, mapping)))
    return rows


def _custom_field_label(change, key):
    if key.startswith("cf."):
        from .models import CustomField

        field = CustomField.objects.filter(company_id=change.company_id, name=key[3:]).first()
        return field.label if field else key[3:]
    return key


def _display(value, mapping):
    if value is None or value == "" or value == []:
        return "--"
    if isinstance(value, bool):
        return gettext("是") if value else gettext("否")
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    return mapping.get(str(value), str(value))
