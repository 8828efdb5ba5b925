from django.urls import path

from . import views, views_import

app_name = "meters"
urlpatterns = [
    path("meters/", views.MeterListView.as_view(), name="meter_list"),
    path("meters/add/", views.MeterEditView.as_view(), name="meter_add"),
    path("meters/<int:pk>/", views.MeterDetailView.as_view(), name="meter_detail"),
    path("meters/<int:pk>/edit/", views.MeterEditView.as_view(), name="meter_edit"),
    path("meters/<int:pk>/delete/", views.MeterDeleteView.as_view(), name="meter_delete"),
    path("meters/<int:pk>/replace/", views.MeterReplaceView.as_view(), name="meter_replace"),
    path("entry/", views.ReadingEntryView.as_view(), name="reading_entry"),
    path("readings/", views.MeterReadingListView.as_view(), name="meterreading_list"),
    path("readings/import/", views_import.reading_import, name="reading_import"),
    path("readings/import/template/", views_import.reading_import_template_download,
         name="reading_import_template"),
    path("readings/<int:pk>/", views.ReadingReviewView.as_view(), name="reading_review"),
]
