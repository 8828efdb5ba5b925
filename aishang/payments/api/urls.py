from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("payment-orders", views.PaymentOrderViewSet)
urlpatterns = router.urls
