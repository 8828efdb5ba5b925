from django.urls import path

from . import views_allocation

app_name = "meters"
urlpatterns = [
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
    path("allocation-runs/<int:pk>/", views_allocation.allocation_run_detail, name="allocationrun_detail"),
    path("allocation-runs/<int:pk>/post/", views_allocation.allocation_run_post, name="allocationrun_post"),
    path("allocation-runs/<int:pk>/reverse/", views_allocation.allocation_run_reverse, name="allocationrun_reverse"),
]
