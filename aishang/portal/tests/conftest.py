import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache

from aishang.billing.payments import Tender, payment_collect
from aishang.core.testing import (
    make_bill,
    make_company,
    make_customer,
    make_fee_item,
    make_owner,
    make_project,
    make_staff,
    make_unit,
)
from aishang.customers.models import OwnerAccount
from aishang.customers.owners import owner_token_issue


class Estate:
    """Two owners of one project: 王芳 (13912345678) with a flat owing February and March 物业费 and a paid
    January, and 李雷 (13987654321) next door with bills and a payment of his own."""

    def __init__(self):
        self.company = make_company()
        self.project = make_project(self.company, name="阳光花园")
        self.fee_item = make_fee_item(self.company, name="物业费")
        self.water = make_fee_item(self.company, name="水费")
        self.unit = make_unit(self.project)
        self.owner = make_owner(self.unit, make_customer(self.project, name="王芳", mobile="13912345678"))
        self.neighbour_unit = make_unit(self.project)
        self.neighbour = make_owner(self.neighbour_unit, make_customer(self.project, name="李雷",
                                                                       mobile="13987654321"))
        self.cashier = make_staff(self.company, "cashier")
        self.january = self.bill("300.00", 1)
        self.february = self.bill("300.00", 2)
        self.march = self.bill("300.00", 3)
        self.water_march = self.bill("45.50", 3, fee_item=self.water)
        self.payment = self.pay([self.january])
        self.neighbour_bill = self.bill("280.00", 2, unit=self.neighbour_unit)
        self.neighbour_paid = self.bill("280.00", 1, unit=self.neighbour_unit)
        self.neighbour_payment = self.pay([self.neighbour_paid])

    def bill(self, amount, month, *, unit=None, fee_item=None):
        return make_bill(self.project, amount, unit=unit or self.unit, fee_item=fee_item or self.fee_item,
                         period_month=datetime.date(2026, month, 1))

    def pay(self, bills):
        total = sum((bill.amount for bill in bills), Decimal(0))
        return payment_collect(project=self.project, bill_ids=[bill.pk for bill in bills],
                               tenders=[Tender("cash", total)], actor=self.cashier)

    def account(self, mobile="13912345678"):
        from aishang.customers.owners import owner_bindings_refresh

        account, _ = OwnerAccount.objects.get_or_create(mobile=mobile)
        owner_bindings_refresh(account)
        return account


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def estate():
    return Estate()


@pytest.fixture
def owner_api(estate):
    from rest_framework.test import APIClient

    client = APIClient()
    key, _ = owner_token_issue(estate.account())
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client
