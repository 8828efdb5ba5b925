"""Random sequences of money operations keep every invariant of the sub-ledger and the journal.

Each sequence posts bills, pays them in whole or in part (in cash, from prepaid and from deposits), tops
prepaid up, offsets bills from prepaid, collects and refunds deposits, waives and voids bills, voids and
refunds payments and refunds prepaid, in an order Hypothesis chooses. A plain model of what happened
predicts whether each void or refund is allowed and every balance; at the end of a sequence the database
must agree with it, and `reconcile` must be clean. Run more with
``MONEY_SEQUENCES=10000 pytest aishang/billing/tests/test_money_invariants.py``.
"""

import datetime
import os
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule, run_state_machine_as_test

from aishang.billing.approvals import approval_decide, approval_request_create
from aishang.billing.balances import bill_outstanding, bills_with_outstanding
from aishang.billing.deposits import deposit_collect
from aishang.billing.models import (
    MONEY_IN_METHODS,
    Allocation,
    ApprovalAction,
    Bill,
    BillVoid,
    DepositMovement,
    Payment,
    PaymentMethod,
    PaymentReversal,
    PaymentTender,
    PrepaidMovement,
)
from aishang.billing.payments import Tender, payment_collect, prepaid_account, prepaid_offset
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


@dataclass
class Paid:
    """The model's record of one payment: what it brought in and what became of it."""

    pk: int
    cash: Decimal = Decimal(0)
    prepaid_used: Decimal = Decimal(0)
    deposits_used: tuple = ()  # ((deposit index, amount), ...)
    allocated: Decimal = Decimal(0)
    prepaid_net: Decimal = Decimal(0)  # what it put into prepaid less what it drew, net of its refunds
    collected: int | None = None  # the deposit it collected, by index
    reversed: Decimal = Decimal(0)
    cash_refunded: Decimal = Decimal(0)
    prepaid_refunded: Decimal = Decimal(0)
    refunded: bool = False
    voided: bool = False

    @property
    def amount(self):
        return self.cash + self.prepaid_used + sum((amount for _, amount in self.deposits_used), Decimal(0))


class MoneyMachine(RuleBasedStateMachine):
    world: World

    def __init__(self):
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.months = 0
        self.expected_prepaid = Decimal(0)
        self.received = Decimal(0)
        self.paid_out = Decimal(0)
        self.payments = []
        self.deposits = []  # [(Deposit, held)]

    def approve(self, **fields):
        request = approval_request_create(reason="测试", actor=self.world.cashier, **fields)
        while request.is_pending:
            request = approval_decide(request=request, actor=self.world.approvers[request.current_role_id],
                                      approve=True)
        return request

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
    @rule(count=st.integers(1, 3), share=st.sampled_from(["all", "part", "more"]), use_prepaid=st.booleans(),
          use_deposit=st.booleans())
    def pay(self, count, share, use_prepaid, use_deposit):
        bills = self.open_bills()[:count]
        if not bills:
            return
        owed = sum(bill.outstanding for bill in bills)
        total = {"all": owed, "part": max((owed / 2).quantize(Decimal("0.01")), Decimal("0.01")),
                 "more": owed + Decimal("12.34")}[share]
        from_prepaid = min(self.expected_prepaid, total) if use_prepaid else Decimal(0)
        tenders = [Tender(PaymentMethod.PREPAID, from_prepaid)] if from_prepaid else []
        deposits_used = []
        held = [(index, amount) for index, (_, amount) in enumerate(self.deposits) if amount > 0]
        if use_deposit and held and total - from_prepaid > 0:
            index, amount = held[0]
            amount = min(amount, total - from_prepaid)
            tenders.append(Tender(PaymentMethod.DEPOSIT, amount, deposit=self.deposits[index][0].pk))
            deposits_used.append((index, amount))
        cash = total - from_prepaid - sum((amount for _, amount in deposits_used), Decimal(0))
        if cash:
            tenders.append(Tender(PaymentMethod.CASH, cash))
        payment = payment_collect(project=self.world.project, bill_ids=[bill.pk for bill in bills],
                                  tenders=tenders, actor=self.world.cashier)
        credit = max(total - owed, Decimal(0))
        self.expected_prepaid += credit - from_prepaid
        for index, amount in deposits_used:
            self.deposits[index] = (self.deposits[index][0], self.deposits[index][1] - amount)
        self.received += cash
        self.payments.append(Paid(payment.pk, cash=cash, prepaid_used=from_prepaid, deposits_used=tuple(deposits_used),
                                  allocated=total - credit, prepaid_net=credit - from_prepaid))
        for bill in bills:
            assert bill_outstanding(bill) >= 0

    @rule(amount=amounts)
    def top_up(self, amount):
        payment = payment_collect(project=self.world.project, unit=self.world.unit, bill_ids=[],
                                  actor=self.world.cashier, tenders=[Tender(PaymentMethod.CASH, amount)])
        self.expected_prepaid += amount
        self.received += amount
        self.payments.append(Paid(payment.pk, cash=amount, prepaid_net=amount))

    @rule()
    def offset(self):
        payments = prepaid_offset(unit=self.world.unit, actor=self.world.cashier)
        self.expected_prepaid -= sum((payment.amount for payment in payments), Decimal(0))
        self.payments += [Paid(payment.pk, prepaid_used=payment.amount, allocated=payment.amount,
                               prepaid_net=-payment.amount) for payment in payments]

    @rule(amount=amounts)
    def collect_deposit(self, amount):
        deposit = deposit_collect(project=self.world.project, unit=self.world.unit, kind="装修押金",
                                  actor=self.world.cashier, tenders=[Tender(PaymentMethod.CASH, amount)])
        self.received += amount
        self.deposits.append((deposit, amount))
        self.payments.append(Paid(deposit.payment_id, cash=amount, collected=len(self.deposits) - 1))

    @precondition(lambda self: self.deposits)
    @rule(which=st.integers(0, 20), share=st.sampled_from(["part", "all", "too much"]))
    def refund_deposit(self, which, share):
        index = which % len(self.deposits)
        deposit, held = self.deposits[index]
        amount = {"part": (held / 2).quantize(Decimal("0.01")), "all": held, "too much": held + 1}[share]
        if amount <= 0:
            return
        try:
            self.approve(action=ApprovalAction.DEPOSIT_REFUND, deposit=deposit, amount=amount,
                         refund_method=PaymentMethod.TRANSFER)
        except ValidationError:
            assert amount > held, "a refund within the deposit was refused"
            return
        assert amount <= held, "a deposit refund beyond what it held was allowed"
        self.deposits[index] = (deposit, held - amount)
        self.paid_out += amount

    @rule(share=st.sampled_from(["part", "all", "too much"]))
    def refund_prepaid(self, share):
        held = self.expected_prepaid
        amount = {"part": (held / 2).quantize(Decimal("0.01")), "all": held, "too much": held + 1}[share]
        if amount <= 0:
            return
        try:
            self.approve(action=ApprovalAction.PREPAID_REFUND, prepaid_account=prepaid_account(self.world.unit),
                         amount=amount, refund_method=PaymentMethod.CASH)
        except ValidationError:
            assert amount > held, "a prepaid refund within the balance was refused"
            return
        assert amount <= held, "a prepaid refund beyond the balance was allowed"
        self.expected_prepaid -= amount
        self.paid_out += amount

    @precondition(lambda self: self.payments)
    @rule(which=st.integers(0, 50))
    def void_payment(self, which):
        paid = self.payments[which % len(self.payments)]
        allowed = (not paid.voided and not paid.refunded and paid.prepaid_net <= self.expected_prepaid
                   and (paid.collected is None or self.deposits[paid.collected][1] == paid.cash))
        try:
            self.approve(action=ApprovalAction.PAYMENT_VOID, payment=Payment.objects.get(pk=paid.pk))
        except ValidationError:
            assert not allowed, "an allowed void was refused"
            return
        assert allowed, "a void that should be refused was allowed"
        paid.voided = True
        self.expected_prepaid -= paid.prepaid_net
        for index, amount in paid.deposits_used:
            self.deposits[index] = (self.deposits[index][0], self.deposits[index][1] + amount)
        if paid.collected is not None:
            self.deposits[paid.collected] = (self.deposits[paid.collected][0], Decimal(0))
        self.paid_out += paid.cash
        paid.prepaid_net = paid.allocated = Decimal(0)

    @precondition(lambda self: self.payments)
    @rule(which=st.integers(0, 50), share=st.sampled_from(["part", "all", "too much"]), to_prepaid=st.booleans())
    def refund_payment(self, which, share, to_prepaid):
        paid = self.payments[which % len(self.payments)]
        reversible = paid.amount - paid.reversed
        amount = {"part": (reversible / 2).quantize(Decimal("0.01")), "all": reversible,
                  "too much": reversible + 1}[share]
        if amount <= 0:
            return
        method = PaymentMethod.PREPAID if to_prepaid else PaymentMethod.CASH
        if to_prepaid:
            limit = paid.prepaid_used - paid.prepaid_refunded if paid.prepaid_used else reversible
            taken_credit = Decimal(0)
        else:
            limit = paid.cash - paid.cash_refunded
            taken_credit = max(min(amount, paid.prepaid_net, self.expected_prepaid), Decimal(0))
        allowed = (not paid.voided and paid.collected is None and amount <= reversible and amount <= limit
                   and amount - taken_credit <= paid.allocated)
        try:
            self.approve(action=ApprovalAction.REFUND, payment=Payment.objects.get(pk=paid.pk), amount=amount,
                         refund_method=method)
        except ValidationError:
            assert not allowed, "an allowed refund was refused"
            return
        assert allowed, "a refund that should be refused was allowed"
        paid.refunded = True
        paid.reversed += amount
        paid.prepaid_net -= taken_credit
        paid.allocated -= amount - taken_credit
        if to_prepaid:
            paid.prepaid_refunded += amount
            paid.prepaid_net += amount
            self.expected_prepaid += amount
        else:
            paid.cash_refunded += amount
            self.expected_prepaid -= taken_credit
            self.paid_out += amount

    @rule(share=st.sampled_from(["part", "all"]), void=st.booleans())
    def correct(self, share, void):
        bills = self.open_bills()
        if not bills:
            return
        bill = bills[-1]
        amount = bill.outstanding if share == "all" else max((bill.outstanding / 3).quantize(Decimal("0.01")),
                                                              Decimal("0.01"))
        if void and BillVoid.objects.filter(bill=bill).exists():
            # What a payment void reopened on a voided bill is collected or waived, never voided twice.
            with pytest.raises(ValidationError, match="不能再次作废"):
                approval_request_create(action="void", bill=bill, reason="测试", actor=self.world.cashier)
            return
        request = approval_request_create(action="void" if void else "waiver", bill=bill,
                                          amount=None if void else amount, reason="测试", actor=self.world.cashier)
        while request.is_pending:
            request = approval_decide(request=request, actor=self.world.approvers[request.current_role_id],
                                      approve=True)

    def no_bill_is_settled_beyond_what_it_owed(self):
        bills = Bill.objects.filter(unit=self.world.unit)
        paid = money_totals(Allocation.objects.filter(bill__in=bills), ["bill_id"])
        for bill_id, amount in bills.values_list("pk", "amount"):
            assert 0 <= paid.get((bill_id,), 0) <= amount
        assert not bills_with_outstanding(bills).filter(outstanding__lt=0).exists()

    def each_payment_is_its_allocations_plus_what_went_to_prepaid_or_deposits(self):
        """Money brought in by a payment, less what its voids and refunds paid back, is what it settled plus
        its net movements of prepaid and deposits (a draw on them is a negative movement)."""
        payments = Payment.objects.filter(unit=self.world.unit)
        ours = Q(payment__in=payments)
        theirs = Q(reversal__payment__in=payments)
        allocated = money_totals(Allocation.objects.filter(payment__in=payments), ["payment_id"])
        prepaid = money_totals(PrepaidMovement.objects.filter(ours), ["payment_id"])
        prepaid_back = money_totals(PrepaidMovement.objects.filter(theirs), ["reversal__payment_id"])
        deposits = money_totals(DepositMovement.objects.filter(ours), ["payment_id"])
        deposits_back = money_totals(DepositMovement.objects.filter(theirs), ["reversal__payment_id"])
        tendered = money_totals(PaymentTender.objects.filter(payment__in=payments), ["payment_id"])
        brought_in = money_totals(PaymentTender.objects.filter(payment__in=payments, method__in=MONEY_IN_METHODS),
                                  ["payment_id"])
        paid_back = money_totals(PaymentReversal.objects.filter(payment__in=payments, method__in=MONEY_IN_METHODS),
                                 ["payment_id"])
        for payment_id, amount in payments.values_list("pk", "amount"):
            key = (payment_id,)
            assert amount == tendered[key]
            assert brought_in.get(key, 0) - paid_back.get(key, 0) == (
                allocated.get(key, 0) + prepaid.get(key, 0) + prepaid_back.get(key, 0) + deposits.get(key, 0)
                + deposits_back.get(key, 0))

    def balances_are_their_movements_and_what_happened(self):
        balances = money_totals(PrepaidMovement.objects.filter(account__unit=self.world.unit), ["account_id"])
        assert all(balance >= 0 for balance in balances.values())
        assert sum(balances.values(), Decimal(0)) == self.expected_prepaid
        held = money_totals(DepositMovement.objects.filter(deposit__unit=self.world.unit), ["deposit_id"])
        assert {(deposit.pk,): amount for deposit, amount in self.deposits if amount} == {
            key: amount for key, amount in held.items() if amount}
        cash = money_total(PaymentTender.objects.filter(payment__unit=self.world.unit, method=PaymentMethod.CASH))
        assert cash == self.received
        paid_out = (money_total(PaymentReversal.objects.filter(payment__unit=self.world.unit,
                                                               method__in=MONEY_IN_METHODS))
                    - money_total(PrepaidMovement.objects.filter(account__unit=self.world.unit, request__isnull=False))
                    - money_total(DepositMovement.objects.filter(deposit__unit=self.world.unit, request__isnull=False)))
        assert paid_out == self.paid_out

    def teardown(self):
        # Checked once per sequence, after its last step: each operation is its own transaction, so a broken
        # invariant stays broken, and checking after every step would make the suite four times slower.
        try:
            self.no_bill_is_settled_beyond_what_it_owed()
            self.each_payment_is_its_allocations_plus_what_went_to_prepaid_or_deposits()
            self.balances_are_their_movements_and_what_happened()
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
