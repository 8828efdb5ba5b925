"""Run long work in the background and report progress on a ``Job`` row.

With a Celery broker the work goes to a worker; without one (the single-site trial) it
runs in a thread of the web process; in tests it runs inline so assertions can follow.
"""

import threading

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connection, connections, transaction
from django.utils import timezone

from .choices import JobStatus
from .models import Job

_runners = {}


def job_runner(kind):
    """Register the function that carries out jobs of a kind: ``fn(job) -> result dict``."""

    def register(fn):
        _runners[kind] = fn
        return fn

    return register


def job_enqueue(job):
    if settings.JOBS_RUN_INLINE:
        job_execute(job.pk)
    elif settings.CELERY_BROKER_URL:
        from .tasks import execute_job

        transaction.on_commit(lambda: execute_job.delay(job.pk))
    else:
        transaction.on_commit(lambda: threading.Thread(target=_run_in_thread, args=(job.pk,), daemon=True).start())
    return job


def _run_in_thread(job_id):
    close_old_connections()
    try:
        job_execute(job_id)
    finally:
        close_old_connections()


def job_execute(job_id):
    job = Job.objects.get(pk=job_id)
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    from aishang.core.context import change_context

    try:
        with change_context(actor=job.created_by, source="job"):
            result = _runners[job.kind](job)
    except Exception as exc:  # the job row must tell the user what happened, whatever it was
        job.status = JobStatus.FAILED
        job.message = job.message or f"处理失败：{exc}"
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "message", "finished_at", "errors"])
        if not isinstance(exc, JobFailed):
            raise
        return job
    job.status = JobStatus.SUCCEEDED
    job.result = result or {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "result", "finished_at", "done", "total", "message"])
    return job


class JobFailed(Exception):
    """The work found the input wrong; ``job.errors`` already says where."""


def job_progress(job, done, total=None, message=None):
    fields = ["done"]
    job.done = done
    if total is not None:
        job.total = total
        fields.append("total")
    if message is not None:
        job.message = message
        fields.append("message")
    Job.objects.filter(pk=job.pk).update(**{f: getattr(job, f) for f in fields})


class JobProgress:
    """A job's progress, visible to the page polling it even while the insert transaction is open.

    Written through the import's own connection it would appear only at commit. On PostgreSQL a
    second, autocommit connection writes it at once; SQLite has a single writer, so there it appears
    at commit. The second connection is used only when the import's transaction is the outermost
    one, so the job row it updates is never locked by the import itself.
    """

    def __init__(self, job):
        self.job = job
        self.can_write_aside = connection.vendor == "postgresql" and not connection.in_atomic_block
        self.aside = None

    def __call__(self, done, total, message):
        if not (self.can_write_aside and connection.in_atomic_block):
            job_progress(self.job, done, total, message)
            return
        self.job.done, self.job.total, self.job.message = done, total, message
        if self.aside is None:
            self.aside = connections.create_connection(DEFAULT_DB_ALIAS)
        with self.aside.cursor() as cursor:
            cursor.execute(f"UPDATE {Job._meta.db_table} SET done = %s, total = %s, message = %s WHERE id = %s",
                           [done, total, message[:500], self.job.pk])

    def close(self):
        if self.aside is not None:
            self.aside.close()
