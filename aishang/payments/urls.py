from django.urls import path

from . import views, views_notify

app_name = "payments"

urlpatterns = [
    path("notify/wechat/<int:config_id>/", views_notify.wechat_notify, name="notify_wechat"),
    path("notify/alipay/<int:config_id>/", views_notify.alipay_notify, name="notify_alipay"),
    path("orders/", views.PaymentOrderListView.as_view(), name="paymentorder_list"),
    path("orders/<int:pk>/", views.PaymentOrderDetailView.as_view(), name="paymentorder_detail"),
    path("orders/<int:pk>/query/", views.order_query_view, name="paymentorder_query"),
    path("refunds/<int:pk>/retry/", views.refund_retry_view, name="gatewayrefund_retry"),
    path("settings/", views.settings_view, name="settings"),
    path("settings/<str:gateway>/", views.gateway_config_edit, name="gatewayconfig_edit"),
]
