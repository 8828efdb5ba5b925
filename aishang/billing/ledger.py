"""The general ledger: balanced journal entries of totals, never edited."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from aishang.core.money import money_total

from .models import JournalEntry, Posting


def journal_post(*, project, event, lines, memo="", run=None, actor=None):
    """Write one entry. ``lines`` are (account, fee_item, amount[, payment method]) with debits positive and
    credits negative."""
    lines = [(account, fee_item, Decimal(amount), method) for account, fee_item, amount, method
             in ((*line, "") if len(line) == 3 else line for line in lines) if Decimal(amount) != 0]
    if not lines:
        return None
    if sum(amount for _, _, amount, _ in lines) != 0:
        raise ValidationError(_("记账凭证借贷不平"))
    entry = JournalEntry.objects.create(company_id=project.company_id, project=project, event=event, memo=memo,
                                        run=run, created_by=actor if getattr(actor, "pk", None) else None)
    Posting.objects.bulk_create([
        Posting(entry=entry, account=account, project=project, fee_item=fee_item, method=method, amount=amount)
        for account, fee_item, amount, method in lines
    ])
    return entry


def account_balance(*, project, account, fee_item=None):
    postings = Posting.objects.filter(project=project, account=account)
    if fee_item is not None:
        postings = postings.filter(fee_item=fee_item)
    return money_total(postings)
