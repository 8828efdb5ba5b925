from django.urls import path

from . import views

app_name = "billing"
urlpatterns = [
    path("fee-items/", views.FeeItemListView.as_view(), name="feeitem_list"),
    path("fee-items/add/", views.FeeItemEditView.as_view(), name="feeitem_add"),
    path("fee-items/<int:pk>/", views.FeeItemDetailView.as_view(), name="feeitem_detail"),
    path("fee-items/<int:pk>/edit/", views.FeeItemEditView.as_view(), name="feeitem_edit"),
    path("rules/", views.ChargeRuleListView.as_view(), name="chargerule_list"),
    path("rules/add/", views.ChargeRuleEditView.as_view(), name="chargerule_add"),
    path("rules/<int:pk>/", views.ChargeRuleDetailView.as_view(), name="chargerule_detail"),
    path("rules/<int:pk>/edit/", views.ChargeRuleEditView.as_view(), name="chargerule_edit"),
    path("rules/<int:pk>/bindings/add/", views.rule_binding_add, name="rulebinding_add"),
    path("rules/<int:pk>/bindings/<int:binding_pk>/delete/", views.rule_binding_delete, name="rulebinding_delete"),
    path("rules/<int:pk>/prices/add/", views.rule_price_add, name="ruleprice_add"),
    path("runs/", views.BillRunListView.as_view(), name="billrun_list"),
    path("runs/add/", views.bill_run_add, name="billrun_add"),
    path("runs/<int:pk>/", views.bill_run_detail, name="billrun_detail"),
    path("runs/<int:pk>/post/", views.bill_run_post_view, name="billrun_post"),
    path("bills/", views.BillListView.as_view(), name="bill_list"),
    path("bills/<int:pk>/", views.bill_detail, name="bill_detail"),
    path("bills/temporary/add/", views.temporary_bill_add, name="temporary_bill_add"),
    path("bills/advance/add/", views.advance_bill_add, name="advance_bill_add"),
    path("bills/<int:pk>/approvals/<str:action>/", views.approval_request_add, name="approval_request_add"),
    path("approvals/", views.approval_inbox, name="approval_inbox"),
    path("approvals/<int:pk>/", views.approval_detail, name="approval_detail"),
    path("approvals/<int:pk>/decide/", views.approval_decide_view, name="approval_decide"),
    path("approvals/<int:pk>/withdraw/", views.approval_withdraw_view, name="approval_withdraw"),
]
