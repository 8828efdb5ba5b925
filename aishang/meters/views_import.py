"""抄表导入 pages: pick a project, download its meters pre-filled with their last readings, upload, follow the job."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from aishang.estate.models import Building
from aishang.extras import views_jobs
from aishang.extras.importing import xlsx_download
from aishang.extras.views_import import import_page, permitted_project

from .choices import MeterKind
from .imports import JOB_KIND, READING_PERMISSION, reading_import_start, reading_import_template

# The job page labels a result's figures by the job's kind; these are the reading import's.
views_jobs.RESULT_LABELS.update({"readings": "导入读数", "meters": "仪表数", "flagged": "待复核",
                                 "rollovers": "翻表", "skipped": "未填读数的行"})
views_jobs.FOLLOW_UP[JOB_KIND] = ("meters:reading_import", "meters:meterreading_list", "查看抄表记录")


@login_required
@permission_required(READING_PERMISSION, raise_exception=True)
def reading_import(request):
    user = request.user
    project = permitted_project(user, request.POST.get("project") or request.GET.get("project"))
    if project is None and request.method != "POST" and len(user.permitted_project_ids()) == 1:
        project = permitted_project(user, user.permitted_project_ids()[0])
    buildings = Building.objects.filter(project=project).order_by("weight", "code") if project else []
    return import_page(request, start=reading_import_start, job_kind=JOB_KIND,
                       template_name="meters/reading_import.html", title=_("抄表导入"),
                       context={"buildings": buildings, "kinds": MeterKind.choices})


@login_required
@permission_required(READING_PERMISSION, raise_exception=True)
def reading_import_template_download(request):
    """The chosen project's (or building's) active meters of a kind, with their last readings."""
    project = permitted_project(request.user, request.GET.get("project"))
    if project is None:
        messages.warning(request, _("请先选择项目，再下载该项目的抄表模板"))
        return redirect("meters:reading_import")
    building, kind = template_choice(project, request.GET)
    name = "-".join(part for part in (_("抄表导入模板"), project.name, building and (building.name or building.code),
                                      kind and str(MeterKind(kind).label)) if part)
    return xlsx_download(reading_import_template(project, building=building, kind=kind), name)


def template_choice(project, params):
    """The building and kind asked for; anything not of the project (or no kind) means all."""
    building_id, kind = str(params.get("building") or ""), params.get("kind") or None
    building = Building.objects.filter(project=project, pk=int(building_id)).first() if building_id.isdigit() else None
    return building, kind if kind in MeterKind.values else None
