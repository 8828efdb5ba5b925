from rest_framework.routers import DefaultRouter

from . import jobs, views

router = DefaultRouter()
router.register("custom-fields", views.CustomFieldViewSet)
router.register("object-changes", views.ObjectChangeViewSet)
urlpatterns = router.urls
urlpatterns += jobs.urlpatterns
