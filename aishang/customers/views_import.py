"""导入房屋及业主 pages: pick a project, download the template, upload the filled-in file."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render

from aishang.core.forms import style_widgets
from aishang.estate.models import Project
from aishang.extras.importing import MAX_UPLOAD_BYTES, xlsx_download
from aishang.extras.models import Job

from .imports import JOB_KIND, unit_import_start, unit_import_template

IMPORT_PERMISSION = "estate.import_unit"


class UnitImportForm(forms.Form):
    project = forms.ModelChoiceField(label="项目", queryset=Project.objects.none(), empty_label="请选择项目")
    file = forms.FileField(label="Excel 文件", widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
                           help_text=f"按导入模板填写的 .xlsx 文件，不超过 {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = user.permitted_projects().order_by("code")
        style_widgets(self)


def _permitted_project(user, value):
    if not str(value or "").isdigit():
        return None
    return user.permitted_projects().select_related("company").filter(pk=int(value)).first()


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def unit_import(request):
    user = request.user
    if request.method == "POST":
        form = UnitImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                job = unit_import_start(project=form.cleaned_data["project"], uploaded_file=form.cleaned_data["file"],
                                        actor=user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("extras:job_detail", pk=job.pk)
        project = _permitted_project(user, request.POST.get("project"))
    else:
        project = _permitted_project(user, request.GET.get("project"))
        if project is None and len(user.permitted_project_ids()) == 1:
            project = _permitted_project(user, user.permitted_project_ids()[0])
        form = UnitImportForm(user=user, initial={"project": project})
    recent = Job.objects.restrict(user, action=None).filter(kind=JOB_KIND).select_related("project")[:5]
    context = {"form": form, "title": "导入房屋及业主", "recent_jobs": recent, "template_project": project}
    return render(request, "customers/unit_import.html", context)


@login_required
@permission_required(IMPORT_PERMISSION, raise_exception=True)
def unit_import_template_download(request):
    project = _permitted_project(request.user, request.GET.get("project"))
    if project is None:
        messages.warning(request, "请先选择项目，再下载该项目的导入模板")
        return redirect("customers:unit_import")
    return xlsx_download(unit_import_template(project), f"房屋及业主导入模板-{project.name}")
