from django.urls import path
from rest_framework.routers import DefaultRouter

from . import closes, imports, receipts, reports, views

router = DefaultRouter()
router.register("fee-items", views.FeeItemViewSet)
router.register("charge-rules", views.ChargeRuleViewSet)
router.register("rule-bindings", views.RuleBindingViewSet)
router.register("rule-prices", views.RulePriceViewSet)
router.register("discount-schemes", views.DiscountSchemeViewSet)
router.register("bill-runs", views.BillRunViewSet)
router.register("bill-run-schedules", views.BillRunScheduleViewSet)
router.register("bills", views.BillViewSet)
router.register("waivers", views.WaiverViewSet)
router.register("bill-voids", views.BillVoidViewSet)
router.register("bill-discounts", views.BillDiscountViewSet)
router.register("journal-entries", views.JournalEntryViewSet)
router.register("approval-flows", views.ApprovalFlowViewSet)
router.register("approval-requests", views.ApprovalRequestViewSet)
router.register("payments", views.PaymentViewSet)
router.register("deposits", views.DepositViewSet)
router.register("prepaid-accounts", views.PrepaidAccountViewSet)
router.register("receipt-templates", receipts.ReceiptTemplateViewSet)
router.register("receipt-prints", receipts.ReceiptPrintViewSet)
router.register("printer-profiles", receipts.PrinterProfileViewSet)
router.register("shift-closes", closes.ShiftCloseViewSet)
urlpatterns = router.urls
urlpatterns += imports.urlpatterns
urlpatterns += [path("shift/", closes.ShiftCloseViewSet.as_view({"get": "current"}), name="shift-current")]
urlpatterns += reports.urlpatterns
