from django.urls import path

from . import views

app_name = "portal-api"

urlpatterns = [
    path("auth/sms-code/", views.SmsCodeView.as_view(), name="sms-code"),
    path("auth/sms-login/", views.SmsLoginView.as_view(), name="sms-login"),
    path("auth/wechat-login/", views.WechatLoginView.as_view(), name="wechat-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("units/", views.UnitListView.as_view(), name="units"),
    path("units/<int:pk>/", views.UnitDetailView.as_view(), name="unit"),
    path("bills/", views.BillListView.as_view(), name="bills"),
    path("bills/selection/", views.BillSelectionView.as_view(), name="bill-selection"),
    path("pay/", views.PayView.as_view(), name="pay"),
    path("topup/", views.TopUpView.as_view(), name="topup"),
    path("orders/<str:out_trade_no>/", views.OrderView.as_view(), name="order"),
    path("payments/", views.PaymentListView.as_view(), name="payments"),
    path("receipts/<int:pk>/pdf/", views.ReceiptPdfView.as_view(), name="receipt-pdf"),
    path("messages/", views.MessageListView.as_view(), name="messages"),
    path("messages/unread-count/", views.UnreadCountView.as_view(), name="messages-unread"),
    path("messages/read/", views.MarkReadView.as_view(), name="messages-read"),
]
