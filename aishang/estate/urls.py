from django.urls import path

from . import views, views_import

app_name = "estate"
urlpatterns = [
    path("projects/", views.ProjectListView.as_view(), name="project_list"),
    path("projects/add/", views.ProjectEditView.as_view(), name="project_add"),
    path("projects/<int:pk>/", views.ProjectDetailView.as_view(), name="project_detail"),
    path("projects/<int:pk>/edit/", views.ProjectEditView.as_view(), name="project_edit"),
    path("projects/<int:pk>/delete/", views.ProjectDeleteView.as_view(), name="project_delete"),
    path("property-types/", views.PropertyTypeListView.as_view(), name="propertytype_list"),
    path("property-types/add/", views.PropertyTypeEditView.as_view(), name="propertytype_add"),
    path("property-types/<int:pk>/", views.PropertyTypeDetailView.as_view(), name="propertytype_detail"),
    path("property-types/<int:pk>/edit/", views.PropertyTypeEditView.as_view(), name="propertytype_edit"),
    path("property-types/<int:pk>/delete/", views.PropertyTypeDeleteView.as_view(), name="propertytype_delete"),
    path("buildings/", views.BuildingListView.as_view(), name="building_list"),
    path("buildings/add/", views.BuildingEditView.as_view(), name="building_add"),
    path("buildings/<int:pk>/", views.BuildingDetailView.as_view(), name="building_detail"),
    path("buildings/<int:pk>/edit/", views.BuildingEditView.as_view(), name="building_edit"),
    path("buildings/<int:pk>/delete/", views.BuildingDeleteView.as_view(), name="building_delete"),
    path("buildings/<int:building_pk>/entrances/add/", views.EntranceEditView.as_view(), name="entrance_add"),
    path("entrances/", views.EntranceListView.as_view(), name="entrance_list"),
    path("entrances/<int:pk>/", views.EntranceDetailView.as_view(), name="entrance_detail"),
    path("entrances/<int:pk>/edit/", views.EntranceEditView.as_view(), name="entrance_edit"),
    path("entrances/<int:pk>/delete/", views.EntranceDeleteView.as_view(), name="entrance_delete"),
    path("units/", views.UnitListView.as_view(), name="unit_list"),
    path("units/add/", views.UnitEditView.as_view(), name="unit_add"),
    path("units/<int:pk>/", views.UnitDetailView.as_view(), name="unit_detail"),
    path("units/<int:pk>/edit/", views.UnitEditView.as_view(), name="unit_edit"),
    path("units/<int:pk>/delete/", views.UnitDeleteView.as_view(), name="unit_delete"),
    path("units/form/buildings/", views.UnitFormPartView.as_view(part="buildings"), name="unit_building_options"),
    path("units/form/entrances/", views.UnitFormPartView.as_view(part="entrances"), name="unit_entrance_options"),
    path("units/form/code/", views.UnitFormPartView.as_view(part="code"), name="unit_code_preview"),
    path("units/form/custom-fields/", views.UnitFormPartView.as_view(part="custom"), name="unit_custom_fields"),
    path("parking/", views.ParkingSpaceListView.as_view(), name="parkingspace_list"),
    path("parking/add/", views.ParkingSpaceEditView.as_view(), name="parkingspace_add"),
    path("parking/<int:pk>/", views.ParkingSpaceDetailView.as_view(), name="parkingspace_detail"),
    path("parking/<int:pk>/edit/", views.ParkingSpaceEditView.as_view(), name="parkingspace_edit"),
    path("parking/<int:pk>/delete/", views.ParkingSpaceDeleteView.as_view(), name="parkingspace_delete"),
]
urlpatterns += [
    path("import/units/", views_import.unit_import, name="unit_import"),
    path("import/units/template/", views_import.unit_import_template_download, name="unit_import_template"),
]
