"""The pages every spreadsheet import shares: pick a project, download its template, upload the filled-in file,
then follow the background job (extras:job_detail)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.forms import style_widgets
from aishang.estate.models import Project

from .importing import MAX_UPLOAD_BYTES, xlsx_download
from .models import Job


class ProjectImportForm(forms.Form):
    project = forms.ModelChoiceField(label=gettext_lazy("项目"), queryset=Project.objects.none(),
                                     empty_label=gettext_lazy("请选择项目"))
    file = forms.FileField(label=gettext_lazy("Excel 文件"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
                           help_text=gettext_lazy("按导入模板填写的 .xlsx 文件，不超过 %(size)s MB")
                           % {"size": MAX_UPLOAD_BYTES // (1024 * 1024)})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = user.permitted_projects().order_by("code")
        style_widgets(self)


def permitted_project(user, value):
    if not str(value or "").isdigit():
        return None
    return user.permitted_projects().select_related("company").filter(pk=int(value)).first()


def import_page(request, *, start, job_kind, template_name, title, context=None):
    """The upload page: on a valid POST ``start(project=, uploaded_file=, actor=)`` makes the job and the user
    follows it; otherwise the form (with the chosen project's template link) and the user's recent imports."""
    user = request.user
    if request.method == "POST":
        form = ProjectImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                job = start(project=form.cleaned_data["project"], uploaded_file=form.cleaned_data["file"], actor=user)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("extras:job_detail", pk=job.pk)
        project = permitted_project(user, request.POST.get("project"))
    else:
        project = permitted_project(user, request.GET.get("project"))
        if project is None and len(user.permitted_project_ids()) == 1:
            project = permitted_project(user, user.permitted_project_ids()[0])
        form = ProjectImportForm(user=user, initial={"project": project})
    recent = Job.objects.restrict(user, action=None).filter(kind=job_kind).select_related("project")[:5]
    return render(request, template_name, {"form": form, "title": title, "recent_jobs": recent,
                                           "template_project": project, **(context or {})})


def template_download(request, *, template, filename, back):
    """The chosen project's blank template, or back to the upload page (``back``) when none is chosen."""
    project = permitted_project(request.user, request.GET.get("project"))
    if project is None:
        messages.warning(request, _("请先选择项目，再下载该项目的导入模板"))
        return redirect(back)
    return xlsx_download(template(project), f"{filename}-{project.name}")
