from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("units/<int:pk>/", views.unit_detail, name="unit"),
    path("bills/", views.bills, name="bills"),
    path("bills/total/", views.bill_total, name="bill_total"),
    path("pay/", views.pay, name="pay"),
    path("topup/", views.topup, name="topup"),
    path("orders/<str:out_trade_no>/", views.order, name="order"),
    path("payments/", views.payments, name="payments"),
    path("payments/<int:pk>/", views.payment_detail, name="payment"),
    path("payments/<int:pk>/receipt.pdf", views.receipt_pdf, name="receipt_pdf"),
    path("messages/", views.messages, name="messages"),
    path("messages/<int:pk>/", views.message_detail, name="message"),
    path("messages/read-all/", views.messages_read_all, name="messages_read_all"),
]
