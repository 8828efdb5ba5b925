"""Writes to customers, occupancies and vehicles beyond a plain form save.

Each is one transaction; the change log follows from signals, validation from the models.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext

from aishang.extras.audit import audit_record
from aishang.extras.choices import AuditKind
from aishang.extras.services import register_object_save

from .choices import OccupancyRole, Relation
from .models import Customer, Occupancy
from .selectors import PII_FIELDS


def customer_pii_viewed(*, actor, customers=(), customer_ids=(), detail=None):
    """Log that the actor was shown unmasked personal data: of the given ids, and of those customers that have any."""
    ids = list(dict.fromkeys([*customer_ids, *(c.pk for c in customers
                                                if any(getattr(c, name, "") for name in PII_FIELDS))]))
    if not ids:
        return None
    return audit_record(kind=AuditKind.PII_VIEW, user=actor, model=Customer, object_ids=ids, detail=detail or {})


def occupancy_end(*, occupancy, end_date, actor=None):
    """End an occupancy on ``end_date`` (the last day it holds); the row stays as history."""
    if end_date is None:
        raise ValidationError({"end_date": gettext("请填写结束日期")})
    occupancy.end_date = end_date
    return register_object_save(obj=occupancy, actor=actor)


@transaction.atomic
def occupancy_transfer_ownership(*, unit, new_owner, on_date, actor=None, is_payer=True, notes=""):
    """过户: the current owners stop owning the day before ``on_date``; ``new_owner`` owns from it.

    Returns the new owner's occupancy. Nothing changes when anything is wrong.
    """
    if on_date is None:
        raise ValidationError({"on_date": gettext("请填写过户日期")})
    if new_owner.project_id != unit.project_id:
        raise ValidationError({"new_owner": gettext("新业主与房屋不属于同一项目")})
    owners = list(Occupancy.objects.select_for_update(of=("self",)).current(on_date)
                  .filter(unit=unit, role=OccupancyRole.OWNER).select_related("customer").order_by("pk"))
    if any(o.customer_id == new_owner.pk for o in owners):
        raise ValidationError({"new_owner": gettext("「%(owner)s」已是该房屋的业主") % {"owner": new_owner}})
    last_day = on_date - datetime.timedelta(days=1)
    for occupancy in owners:
        if occupancy.start_date and occupancy.start_date > last_day:
            raise ValidationError({"on_date": gettext("过户日期须晚于原业主「%(owner)s」的开始日期（%(date)s）") % {
                "owner": occupancy.customer, "date": f"{occupancy.start_date:%Y-%m-%d}"}})
    for occupancy in owners:
        occupancy.end_date = last_day
        register_object_save(obj=occupancy, actor=actor)
    new_occupancy = Occupancy(unit=unit, customer=new_owner, role=OccupancyRole.OWNER, relation=Relation.SELF,
                              start_date=on_date, is_payer=is_payer, notes=notes or "过户")
    return register_object_save(obj=new_occupancy, actor=actor)
