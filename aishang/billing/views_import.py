"""导入历史账单 pages: pick a project, download the template, upload the filled-in file, follow the job."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aishang.core.forms import style_widgets
from aishang.estate.models import Project
from aishang.extras import views_jobs
from aishang.extras.importing import MAX_UPLOAD_BYTES, xlsx_download
from aishang.extras.models import Job

from .imports import BILL_PERMISSION, JOB_KIND, PAYMENT_PERMISSION, bill_import_start, bill_import_template

# The job page labels a result's figures and links onwards by the job's kind; these are the bill import's.
views_jobs.RESULT_LABELS.update({"payments": "历史收款笔数", "paid": "实收合计", "open_bills": "未结清账单"})
views_jobs.FOLLOW_UP[JOB_KIND] = ("billing:bill_import", "billing:bill_list", "查看账单")


class BillImportForm(forms.Form):
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


def _permitted_project(user, value):
    if not str(value or "").isdigit():
        return None
    return user.permitted_projects().select_related("company").filter(pk=int(value)).first()


@login_required
@permission_required(BILL_PERMISSION, raise_exception=True)
def bill_import(request):
    user = request.user
    if request.method == "POST":
        form = BillImportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            try:
                job = bill_import_start(project=form.cleaned_data["project"], uploaded_file=form.cleaned_data["file"],
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
        form = BillImportForm(user=user, initial={"project": project})
    recent = Job.objects.restrict(user, action=None).filter(kind=JOB_KIND).select_related("project")[:5]
    context = {"form": form, "title": _("导入历史账单"), "recent_jobs": recent, "template_project": project,
               "may_import_payments": user.has_perm(PAYMENT_PERMISSION)}
    return render(request, "billing/bill_import.html", context)


@login_required
@permission_required(BILL_PERMISSION, raise_exception=True)
def bill_import_template_download(request):
    project = _permitted_project(request.user, request.GET.get("project"))
    if project is None:
        messages.warning(request, _("请先选择项目，再下载该项目的导入模板"))
        return redirect("billing:bill_import")
    return xlsx_download(bill_import_template(project), _("历史账单导入模板-%(project)s") % {"project": project.name})
