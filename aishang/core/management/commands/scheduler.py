"""Run the periodic tasks of CELERY_BEAT_SCHEDULE in this process: the embedded stand-in for ``celery beat``.

A single-site trial without a broker runs this beside the web server (scripts/demo.sh does); with a
broker, run ``celery -A config beat`` and a worker instead, never both.
"""

import datetime
import time

from celery import current_app
from celery.schedules import schedule as every
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone

LONGEST_SLEEP = 30


def _schedule(value):
    return every(datetime.timedelta(seconds=value)) if isinstance(value, int | float) else value


class Command(BaseCommand):
    help = "在本进程内按 CELERY_BEAT_SCHEDULE 定时执行任务（无消息队列时代替 celery beat）"

    def handle(self, *args, **options):
        entries = {name: _schedule(entry["schedule"]) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
        # Starting counts as a run for interval tasks; crontab tasks are due at their next time from now.
        last_run = dict.fromkeys(entries, timezone.now())
        self.stdout.write(f"scheduler: {len(entries)} periodic tasks: {', '.join(entries)}")
        while True:
            wait = LONGEST_SLEEP
            for name, schedule in entries.items():
                due, next_in = schedule.is_due(last_run[name])
                if due:
                    last_run[name] = timezone.now()
                    self.run(name)
                wait = min(wait, max(next_in, 1))
            time.sleep(wait)

    def run(self, name):
        task_name = settings.CELERY_BEAT_SCHEDULE[name]["task"]
        close_old_connections()
        result = current_app.tasks[task_name].apply()  # a failing task is reported, the others go on
        stream = self.stderr if result.failed() else self.stdout
        stream.write(f"{timezone.localtime():%Y-%m-%d %H:%M:%S} {task_name}: {result.result!r}")
