from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("messages/", views.MessageListView.as_view(), name="message_list"),
    path("messages/<int:pk>/", views.MessageDetailView.as_view(), name="message_detail"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/", views.inbox_message, name="inbox_message"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("inbox/badge/", views.inbox_badge, name="inbox_badge"),
    path("templates/", views.template_list, name="messagetemplate_list"),
    path("templates/new/<slug:code>/", views.MessageTemplateEditView.as_view(), name="messagetemplate_add"),
    path("templates/<int:pk>/edit/", views.MessageTemplateEditView.as_view(), name="messagetemplate_edit"),
    path("templates/preview/<slug:code>/", views.template_preview, name="messagetemplate_preview"),
    path("sms-account/", views.sms_config_edit, name="smsproviderconfig_edit"),
]
