from aishang.core.generic_views import (
    Column,
    ObjectDeleteView,
    ObjectDetailView,
    ObjectEditView,
    ObjectListView,
    choice_display,
)

from .filters import ProjectFilter
from .forms import ProjectForm
from .models import Project
from .selectors import project_summary


class ProjectListView(ObjectListView):
    model = Project
    filterset_class = ProjectFilter
    search_fields = ("name__icontains", "code__icontains", "address__icontains")
    search_placeholder = "项目名称、编码或地址"
    add_url_name = "estate:project_add"
    prefetch_related = ("property_types",)
    columns = [
        Column("code", "项目编码", order_by="code"),
        Column("name", "项目名称", link=True, order_by="name"),
        Column("status", "状态", display=choice_display("status"), order_by="status"),
        Column("property_types", "业态"),
        Column("city", "城市", order_by="city"),
        Column("address", "地址"),
        Column("manager_name", "项目经理"),
        Column("service_phone", "服务电话"),
    ]

class ProjectDetailView(ObjectDetailView):
    model = Project
    template_name = "estate/project_detail.html"

    def get_extra_context(self, obj, active_tab):
        return {"summary": project_summary(obj)}

class ProjectEditView(ObjectEditView):
    model = Project
    form_class = ProjectForm

class ProjectDeleteView(ObjectDeleteView):
    model = Project
