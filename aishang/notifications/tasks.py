from celery import shared_task


@shared_task(name="notifications.deliver", ignore_result=True)
def deliver(message_id):
    from .services import message_deliver

    message_deliver(message_id)


@shared_task(name="notifications.deliver_due", ignore_result=True)
def deliver_due():
    from .services import messages_deliver_due

    return messages_deliver_due()
