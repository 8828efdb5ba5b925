from django.urls import path

from . import views, views_jobs

app_name = "extras"
urlpatterns = []
urlpatterns += [
    path("jobs/", views_jobs.job_list, name="job_list"),
    path("jobs/<int:pk>/", views_jobs.job_detail, name="job_detail"),
    path("jobs/<int:pk>/errors.xlsx", views_jobs.job_errors_download, name="job_errors"),
]
urlpatterns += [
    path("customfields/", views.CustomFieldListView.as_view(), name="customfield_list"),
    path("customfields/add/", views.CustomFieldEditView.as_view(), name="customfield_add"),
    path("customfields/<int:pk>/edit/", views.CustomFieldEditView.as_view(), name="customfield_edit"),
    path("customfields/<int:pk>/delete/", views.CustomFieldDeleteView.as_view(), name="customfield_delete"),
    path("changes/", views.ObjectChangeListView.as_view(), name="objectchange_list"),
    path("changes/<int:pk>/", views.ObjectChangeDetailView.as_view(), name="objectchange_detail"),
    path("audit/", views.AuditEventListView.as_view(), name="auditevent_list"),
]
