from celery import shared_task


@shared_task(name="extras.execute_job")
def execute_job(job_id):
    from .jobs import job_execute

    job_execute(job_id)
