from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("companies", views.CompanyViewSet)
router.register("property-types", views.PropertyTypeViewSet)
router.register("projects", views.ProjectViewSet)
router.register("buildings", views.BuildingViewSet)
router.register("entrances", views.EntranceViewSet)
router.register("units", views.UnitViewSet)
router.register("parking-spaces", views.ParkingSpaceViewSet)
urlpatterns = router.urls
