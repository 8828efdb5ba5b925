from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

api_v1 = [
    path("auth/", include("aishang.users.api.auth_urls")),
    path("", include("aishang.estate.api.urls")),
    path("", include("aishang.customers.api.urls")),
    path("", include("aishang.users.api.urls")),
    path("", include("aishang.extras.api.urls")),
    path("", include("aishang.notifications.api.urls")),
    path("", include("aishang.billing.api.urls")),
    path("", include("aishang.meters.api.urls")),
    path("owner/", include("aishang.portal.api.urls")),
    path("", include("aishang.payments.api.urls")),
]

urlpatterns = [
    path("", include("aishang.analytics.urls")),
    path("accounts/", include("aishang.users.urls")),
    path("estate/", include("aishang.estate.urls")),
    path("customers/", include("aishang.customers.urls")),
    path("system/", include("aishang.extras.urls")),
    path("billing/", include("aishang.billing.urls")),
    path("meters/", include("aishang.meters.urls")),
    path("notifications/", include("aishang.notifications.urls")),
    path("m/", include("aishang.portal.urls")),
    path("payments/", include("aishang.payments.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

if settings.PAYMENTS_SANDBOX:
    urlpatterns += [path("sandbox/", include("aishang.payments.sandbox.urls"))]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
