from django.db import transaction
from django.utils.translation import gettext as _

from aishang.core.money import format_money
from aishang.extras.jobs import job_enqueue, job_progress, job_runner
from aishang.extras.models import Job

from .models import BillRun
from .notify import bill_run_notify_payers
from .services import bill_run_post, bill_run_preview

JOB_KIND = "bill_run"


def bill_run_start(run, *, actor):
    """Post a run in the background; the returned job reports its progress."""
    with transaction.atomic():
        job = Job.objects.create(kind=JOB_KIND, title=_("出账：%(run)s") % {"run": run}, company=run.project.company,
                                 project=run.project, created_by=actor, params={"run_id": run.pk})
        job_enqueue(job)
    return job


@job_runner(JOB_KIND)
def run_bill_run(job):
    run = BillRun.objects.select_related("project").get(pk=job.params["run_id"])
    job_progress(job, 0, total=bill_run_preview(run, samples=0).count, message="出账中")
    run = bill_run_post(run, actor=job.created_by)
    job_progress(job, run.bill_count,
                 message=f"已出账 {run.bill_count} 张账单，合计 {format_money(run.total_amount)}")
    notified = bill_run_notify_payers(run)
    return {"bills": run.bill_count, "total": format_money(run.total_amount), "notified": notified}
