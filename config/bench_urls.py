"""The URL conf of ``config.settings.bench``: every real URL, and the bare view ``bench_owner_api`` compares with."""

from django.urls import path

from aishang.portal.bench import bare_owner_bills

from .urls import urlpatterns as real_urlpatterns

urlpatterns = [*real_urlpatterns, path("bench/owner-bills-bare/", bare_owner_bills)]
