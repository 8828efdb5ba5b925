from rest_framework.routers import DefaultRouter

from . import imports, views

router = DefaultRouter()
router.register("customers", views.CustomerViewSet)
router.register("occupancies", views.OccupancyViewSet)
router.register("vehicles", views.VehicleViewSet)
urlpatterns = router.urls
urlpatterns += imports.urlpatterns
