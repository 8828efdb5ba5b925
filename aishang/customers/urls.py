from django.urls import path
from django.views.generic import RedirectView

from . import views, views_import

app_name = "customers"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:customer_list"), name="index"),
    path("customers/", views.CustomerListView.as_view(), name="customer_list"),
    path("customers/add/", views.CustomerEditView.as_view(), name="customer_add"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("customers/<int:pk>/edit/", views.CustomerEditView.as_view(), name="customer_edit"),
    path("customers/<int:pk>/delete/", views.CustomerDeleteView.as_view(), name="customer_delete"),
    path("customers/<int:pk>/pii/", views.CustomerPIIView.as_view(), name="customer_pii"),
    path("occupancies/add/", views.OccupancyEditView.as_view(), name="occupancy_add"),
    path("occupancies/<int:pk>/", views.OccupancyRedirectView.as_view(), name="occupancy_detail"),
    path("occupancies/<int:pk>/edit/", views.OccupancyEditView.as_view(), name="occupancy_edit"),
    path("occupancies/<int:pk>/end/", views.OccupancyEndView.as_view(), name="occupancy_end"),
    path("units/<int:unit_pk>/transfer/", views.UnitTransferView.as_view(), name="unit_transfer"),
    path("vehicles/", views.VehicleListView.as_view(), name="vehicle_list"),
    path("vehicles/add/", views.VehicleEditView.as_view(), name="vehicle_add"),
    path("vehicles/<int:pk>/", views.VehicleDetailView.as_view(), name="vehicle_detail"),
    path("vehicles/<int:pk>/edit/", views.VehicleEditView.as_view(), name="vehicle_edit"),
    path("vehicles/<int:pk>/delete/", views.VehicleDeleteView.as_view(), name="vehicle_delete"),
]
urlpatterns += [
    path("import/units/", views_import.unit_import, name="unit_import"),
    path("import/units/template/", views_import.unit_import_template_download, name="unit_import_template"),
]
