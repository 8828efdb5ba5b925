from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from aishang.core.money import format_money
from aishang.extras.jobs import job_enqueue, job_progress, job_runner
from aishang.extras.models import Job, JobStatus

from .models import BillRun, BillRunStatus
from .notify import bill_run_notify_payers
from .services import bill_run_post, bill_run_preview, scheduled_run_create, schedules_due

JOB_KIND = "bill_run"


def bill_run_posting_refusal(run):
    """Why the run cannot be posted now, or ``None``. A run whose posting job failed may be posted again:
    posting creates only the bills that are still missing."""
    if run.status == BillRunStatus.POSTED:
        return _("该出账批次已出账，不能重复出账")
    job = Job.objects.filter(kind=JOB_KIND, params__run_id=run.pk).order_by("-created_at", "-id").first()
    if job is not None and not job.is_finished:
        return _("该出账批次正在出账中（后台任务 %(job)s），请等待完成") % {"job": job.pk}
    if run.status == BillRunStatus.POSTING and (job is None or job.status != JobStatus.FAILED):
        return _("该出账批次正在出账中，请等待完成")
    return None


def bill_run_start(run, *, actor):
    """Post a run in the background; the returned job reports its progress.

    Raises ValidationError when the run is posted already or its posting is under way.
    """
    with transaction.atomic():
        # Two clicks at once: the second waits here for the first's job row, then is refused.
        run = BillRun.objects.select_for_update().select_related("project__company").get(pk=run.pk)
        refusal = bill_run_posting_refusal(run)
        if refusal:
            raise ValidationError(refusal)
        job = Job.objects.create(kind=JOB_KIND, title=_("出账：%(run)s") % {"run": run}, company=run.project.company,
                                 project=run.project, created_by=actor, params={"run_id": run.pk})
        job_enqueue(job)
    return job


def scheduled_runs_start(today):
    """Start this month's run of every schedule that is due; returns the jobs started."""
    jobs = []
    for schedule in schedules_due(today):
        run = scheduled_run_create(schedule, today)
        if run is not None:
            jobs.append(bill_run_start(run, actor=schedule.created_by))
    return jobs


@job_runner(JOB_KIND)
def run_bill_run(job):
    run = BillRun.objects.select_related("project").get(pk=job.params["run_id"])
    job_progress(job, 0, total=bill_run_preview(run, samples=0).count, message="出账中")
    run = bill_run_post(run, actor=job.created_by)
    job_progress(job, run.bill_count,
                 message=f"已出账 {run.bill_count} 张账单，合计 {format_money(run.total_amount)}")
    notified = bill_run_notify_payers(run)
    return {"bills": run.bill_count, "total": format_money(run.total_amount), "notified": notified}
