"""后台任务 pages: my jobs, and one job's progress (polled by htmx), result or errors."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse

from .importing import import_errors_response
from .models import Job

RESULT_LABELS = {
    "units": "导入房屋", "customers": "新建客户", "reused_customers": "关联已有客户", "occupancies": "业主关系",
    "buildings": "新建楼栋", "entrances": "新建单元", "bills": "账单数", "total": "应收合计",
}
# Where "导入下一个文件" and "查看结果" lead for each kind of job.
# kind → (page to start another, page with the results, its button label)
FOLLOW_UP = {
    "unit_import": ("customers:unit_import", "estate:unit_list", "查看房屋"),
    "bill_run": ("billing:billrun_add", "billing:billrun_list", "查看出账结果"),
}


def _my_jobs(user):
    return Job.objects.restrict(user, action=None).select_related("project")


def _url(name):
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


@login_required
def job_list(request):
    page = Paginator(_my_jobs(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "extras/job_list.html", {"title": "后台任务", "page": page})


@login_required
def job_detail(request, pk):
    job = get_object_or_404(_my_jobs(request.user), pk=pk)
    again_name, results_name, results_label = FOLLOW_UP.get(job.kind, (None, None, ""))
    context = {
        "job": job, "title": job.title,
        "result_items": [(RESULT_LABELS.get(key, key), value) for key, value in (job.result or {}).items()],
        "again_url": _url(again_name) if again_name else None,
        "results_url": _url(results_name) if results_name else None,
        "results_label": results_label,
    }
    polled = request.htmx and request.htmx.target == "job-status"
    template = "extras/_job_status.html" if polled else "extras/job_detail.html"
    return render(request, template, context)


@login_required
def job_errors_download(request, pk):
    return import_errors_response(get_object_or_404(_my_jobs(request.user), pk=pk))
