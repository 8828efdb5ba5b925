from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("meters", views.MeterViewSet)
router.register("meter-readings", views.MeterReadingViewSet)
router.register("allocation-rules", views.AllocationRuleViewSet)
router.register("allocation-runs", views.AllocationRunViewSet)
urlpatterns = router.urls
