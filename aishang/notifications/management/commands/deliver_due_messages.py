from django.core.management.base import BaseCommand

from aishang.notifications.services import messages_deliver_due


class Command(BaseCommand):
    help = "Send the notifications whose first attempt or retry is due (what the notifications.deliver_due task does)."

    def handle(self, *args, **options):
        count = messages_deliver_due()
        self.stdout.write(f"attempted: {count}")
