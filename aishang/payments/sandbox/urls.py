from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("wechatpay/v3/pay/transactions/jsapi", views.wechat_jsapi, name="wechat_jsapi"),
    path("wechatpay/v3/pay/transactions/out-trade-no/<str:out_trade_no>", views.wechat_trade, name="wechat_trade"),
    path(
        "wechatpay/v3/pay/transactions/out-trade-no/<str:out_trade_no>/<str:action>",
        views.wechat_trade,
        name="wechat_trade_action",
    ),
    path("wechatpay/v3/refund/domestic/refunds", views.wechat_refunds, name="wechat_refunds"),
    path("wechatpay/v3/refund/domestic/refunds/<str:out_refund_no>", views.wechat_refunds, name="wechat_refund"),
    path("alipay/gateway.do", views.alipay_gateway, name="alipay_gateway"),
    path("cashier/<str:token>/", views.cashier, name="cashier"),
]
