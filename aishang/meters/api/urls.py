from rest_framework.routers import DefaultRouter

from . import allocation_batch, imports, views

router = DefaultRouter()
router.register("meters", views.MeterViewSet)
router.register("meter-readings", views.MeterReadingViewSet)
router.register("allocation-rules", views.AllocationRuleViewSet)
router.register("allocation-runs", views.AllocationRunViewSet)
# Before the router's: its meter-readings/{id}/ would take "import" for an id.
urlpatterns = imports.urlpatterns + allocation_batch.urlpatterns + router.urls
