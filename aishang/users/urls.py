from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "users"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("staff/", views.StaffListView.as_view(), name="user_list"),
    path("staff/add/", views.StaffEditView.as_view(), name="user_add"),
    path("staff/<int:pk>/", views.StaffDetailView.as_view(), name="user_detail"),
    path("staff/<int:pk>/edit/", views.StaffEditView.as_view(), name="user_edit"),
    path("staff/<int:pk>/active/", views.StaffSetActiveView.as_view(), name="user_set_active"),
    path("staff/<int:pk>/password/", views.StaffPasswordView.as_view(), name="user_password"),
    path("staff/<int:pk>/unlock/", views.StaffUnlockView.as_view(), name="user_unlock"),
    path("roles/", views.RoleListView.as_view(), name="role_list"),
    path("roles/add/", views.RoleEditView.as_view(), name="role_add"),
    path("roles/<int:pk>/", views.RoleDetailView.as_view(), name="role_detail"),
    path("roles/<int:pk>/edit/", views.RoleEditView.as_view(), name="role_edit"),
    path("roles/<int:pk>/delete/", views.RoleDeleteView.as_view(), name="role_delete"),
]
