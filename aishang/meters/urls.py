from django.urls import path

from . import views, views_allocation, views_import

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
    path("allocation-rules/", views_allocation.AllocationRuleListView.as_view(), name="allocationrule_list"),
    path("allocation-rules/add/", views_allocation.AllocationRuleEditView.as_view(), name="allocationrule_add"),
    path("allocation-rules/<int:pk>/", views_allocation.AllocationRuleDetailView.as_view(),
         name="allocationrule_detail"),
    path("allocation-rules/<int:pk>/edit/", views_allocation.AllocationRuleEditView.as_view(),
         name="allocationrule_edit"),
    path("allocation-rules/<int:pk>/delete/", views_allocation.AllocationRuleDeleteView.as_view(),
         name="allocationrule_delete"),
    path("allocation-runs/", views_allocation.AllocationRunListView.as_view(), name="allocationrun_list"),
    path("allocation-runs/add/", views_allocation.allocation_run_add, name="allocationrun_add"),
    path("allocation-runs/batch/", views_allocation.allocation_run_batch, name="allocationrun_batch"),
    path("allocation-runs/post-batch/", views_allocation.allocation_run_post_batch, name="allocationrun_post_batch"),
    path("allocation-runs/<int:pk>/", views_allocation.allocation_run_detail, name="allocationrun_detail"),
    path("allocation-runs/<int:pk>/post/", views_allocation.allocation_run_post, name="allocationrun_post"),
    path("allocation-runs/<int:pk>/reverse/", views_allocation.allocation_run_reverse, name="allocationrun_reverse"),
]
