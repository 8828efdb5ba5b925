"""Random sequences of money operations keep every invariant of the sub-ledger and the journal.

Each sequence posts bills, pays them in whole or in part (in cash and from prepaid), tops prepaid up,
offsets bills from prepaid, waives and voids, in an order Hypothesis chooses; after every step the
database must agree with a plain model of what happened, and `reconcile` must be clean. Run more with
``MONEY_SEQUENCES=10000 pytest aishang/billing/tests/test_money_invariants.py``.
"""

import datetime
import os
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from aishang.billing.approvals import approval_decide, approval_request_create
from aishang.billing.balances import bill_outstanding, bills_with_outstanding
from aishang.billing.models import Allocation, Bill, Payment, PaymentMethod, PaymentTender, PrepaidMovement
from aishang.billing.payments import Tender, payment_collect, prepaid_offset
from aishang.billing.reconcile import reconcile
from aishang.billing.services import temporary_bill_create
from aishang.core.money import money_total, money_totals
from aishang.core.testing import make_company, make_fee_item, make_project, make_staff, make_unit

pytestmark = pytest.mark.django_db

SEQUENCES = int(os.environ.get("MONEY_SEQUENCES", "1000"))
FIRST_MONTH = datetime.date(2026, 1, 1)
amounts = st.integers(min_value=1, max_value=50_000).map(lambda fen: Decimal(fen) / 100)


class World:
    """What every sequence shares: a company, a project, a unit, two fee items and the staff."""

    def __init__(self):
        company = make_company()
        self.project = make_project(company)
        self.unit = make_unit(self.project)
        self.fee_items = [make_fee_item(company, name="物业费"), make_fee_item(company, name="水费")]
        self.cashier = make_staff(company, "cashier")
        # One approver per role of the company's flows, so that a request can be approved at every level.
        self.approvers = {role.pk: make_staff(company, role.code) for role in company.roles.all()}


class MoneyMachine(RuleBasedStateMachine):
    world: World

    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.months = 0
        self.expected_prepaid = Decimal(0)
        self.received = Decimal(0)

    def open_bills(self):
        bills = bills_with_outstanding(Bill.objects.filter(unit=self.world.unit)).filter(outstanding__gt=0)
        return list(bills.order_by("period_start", "pk"))

    @rule(amount=amounts, item=st.integers(0, 1))
    def post(self, amount, item):
        start = FIRST_MONTH + datetime.timedelta(days=31 * self.months)
        self.months += 1
        temporary_bill_create(project=self.world.project, fee_item=self.world.fee_items[item], amount=amount,
                              reason="测试", due_date=start, period_start=start, unit=self.world.unit,
                              actor=self.world.cashier)

    @precondition(lambda self: Bill.objects.filter(unit=self.world.unit).exists())
    @rule(count=st.integers(1, 3), share=st.sampled_from(["all", "part", "more"]), use_prepaid=st.booleans())
    def pay(self, count, share, use_prepaid):
        bills = self.open_bills()[:count]
        if not bills:
            return
        owed = sum(bill.outstanding for bill in bills)
        total = {"all": owed, "part": max((owed / 2).quantize(Decimal("0.01")), Decimal("0.01")),
                 "more": owed + Decimal("12.34")}[share]
        from_prepaid = min(self.expected_prepaid, total) if use_prepaid else Decimal(0)
        tenders = [Tender(PaymentMethod.PREPAID, from_prepaid)] if from_prepaid else []
        if total - from_prepaid:
            tenders.append(Tender(PaymentMethod.CASH, total - from_prepaid))
        payment = payment_collect(project=self.world.project, bill_ids=[bill.pk for bill in bills],
                                  tenders=tenders, actor=self.world.cashier)
        self.expected_prepaid += max(total - owed, Decimal(0)) - from_prepaid
        self.received += payment.amount - from_prepaid
        for bill in bills:
            assert bill_outstanding(bill) >= 0

    @rule(amount=amounts)
    def top_up(self, amount):
        payment_collect(project=self.world.project, unit=self.world.unit, bill_ids=[], actor=self.world.cashier,
                        tenders=[Tender(PaymentMethod.CASH, amount)])
        self.expected_prepaid += amount
        self.received += amount

    @rule()
    def offset(self):
        payments = prepaid_offset(unit=self.world.unit, actor=self.world.cashier)
        self.expected_prepaid -= sum((payment.amount for payment in payments), Decimal(0))

    @rule(share=st.sampled_from(["part", "all"]), void=st.booleans())
    def correct(self, share, void):
        bills = self.open_bills()
        if not bills:
            return
        bill = bills[-1]
        amount = bill.outstanding if share == "all" else max((bill.outstanding / 3).quantize(Decimal("0.01")),
                                                              Decimal("0.01"))
        request = approval_request_create(action="void" if void else "waiver", bill=bill,
                                          amount=None if void else amount, reason="测试", actor=self.world.cashier)
        while request.is_pending:
            request = approval_decide(request=request, actor=self.world.approvers[request.current_role_id],
                                      approve=True)

    def no_bill_is_settled_beyond_what_it_owed(self):
        bills = Bill.objects.filter(unit=self.world.unit)
        paid = money_totals(Allocation.objects.filter(bill__in=bills), ["bill_id"])
        for bill_id, amount in bills.values_list("pk", "amount"):
            assert paid.get((bill_id,), 0) <= amount
        assert not bills_with_outstanding(bills).filter(outstanding__lt=0).exists()

    def each_payment_is_its_allocations_plus_what_went_to_prepaid(self):
        payments = Payment.objects.filter(unit=self.world.unit)
        allocated = money_totals(Allocation.objects.filter(payment__in=payments), ["payment_id"])
        credited = money_totals(PrepaidMovement.objects.filter(payment__in=payments, amount__gt=0), ["payment_id"])
        tendered = money_totals(PaymentTender.objects.filter(payment__in=payments), ["payment_id"])
        for payment_id, amount in payments.values_list("pk", "amount"):
            key = (payment_id,)
            assert allocated.get(key, 0) + credited.get(key, 0) == amount == tendered[key]

    def prepaid_balances_are_their_movements_and_what_happened(self):
        balances = money_totals(PrepaidMovement.objects.filter(account__unit=self.world.unit), ["account_id"])
        assert all(balance >= 0 for balance in balances.values())
        assert sum(balances.values(), Decimal(0)) == self.expected_prepaid
        cash = money_total(PaymentTender.objects.filter(payment__unit=self.world.unit, method=PaymentMethod.CASH))
        assert cash == self.received

    def teardown(self):
        # Checked once per sequence, after its last step: each operation is its own transaction, so a broken
        # invariant stays broken, and checking after every step would make the suite four times slower.
        try:
            self.no_bill_is_settled_beyond_what_it_owed()
            self.each_payment_is_its_allocations_plus_what_went_to_prepaid()
            self.prepaid_balances_are_their_movements_and_what_happened()
            report = reconcile([self.world.project])
            assert report.is_clean, report.differences
        finally:
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)


def test_random_sequences_of_money_operations_keep_every_invariant():
    MoneyMachine.world = World()
    run_state_machine_as_test(MoneyMachine, settings=settings(
        max_examples=SEQUENCES, stateful_step_count=8, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
