"""导入历史账单 pages: pick a project, download the template, upload the filled-in file, follow the job."""

from django.contrib.auth.decorators import login_required, permission_required
from django.utils.translation import gettext as _

from aishang.extras import views_jobs
from aishang.extras.views_import import import_page, template_download

from .imports import BILL_PERMISSION, JOB_KIND, bill_import_start, bill_import_template

# The job page labels a result's figures and links onwards by the job's kind; these are the bill import's.
views_jobs.RESULT_LABELS.update({"payments": "历史收款笔数", "paid": "实收合计", "open_bills": "未结清账单"})
views_jobs.FOLLOW_UP[JOB_KIND] = ("billing:bill_import", "billing:bill_list", "查看账单")


@login_required
@permission_required(BILL_PERMISSION, raise_exception=True)
def bill_import(request):
    return import_page(request, start=bill_import_start, job_kind=JOB_KIND, template_name="billing/bill_import.html",
                       title=_("导入历史账单"))


@login_required
@permission_required(BILL_PERMISSION, raise_exception=True)
def bill_import_template_download(request):
    return template_download(request, template=bill_import_template, filename=_("历史账单导入模板"),
                             back="billing:bill_import")
