from django.urls import path

from . import views_import

app_name = "meters"

urlpatterns = [
    path("readings/import/", views_import.reading_import, name="reading_import"),
    path("readings/import/template/", views_import.reading_import_template_download,
         name="reading_import_template"),
]
