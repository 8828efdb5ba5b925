from celery import shared_task


@shared_task(name="billing.notify_bill_run", ignore_result=True)
def notify_bill_run(run_id):
    from .models import BillRun
    from .notify import bill_run_notify_payers

    return bill_run_notify_payers(BillRun.objects.get(pk=run_id))


@shared_task(name="billing.send_due_reminders", ignore_result=True)
def send_due_reminders(on_date=None):
    """Daily: bills due tomorrow get 缴费提醒, bills due yesterday and still owed get 欠费提醒."""
    import datetime

    from django.utils import timezone

    from .notify import bills_due_reminders, bills_overdue_reminders

    day = datetime.date.fromisoformat(on_date) if on_date else timezone.localdate()
    return {"due": bills_due_reminders(day), "overdue": bills_overdue_reminders(day)}


@shared_task(name="billing.start_scheduled_runs", ignore_result=True)
def start_scheduled_runs(on_date=None):
    """Daily: 定时出账 schedules whose day has come start this month's run (a missed day is caught up)."""
    import datetime

    from django.utils import timezone

    from .jobs import scheduled_runs_start

    day = datetime.date.fromisoformat(on_date) if on_date else timezone.localdate()
    return [job.pk for job in scheduled_runs_start(day)]
