from celery import shared_task


@shared_task(name="payments.check_pending_orders", ignore_result=True)
def check_pending_orders():
    """Every minute: query orders that had no callback in time, close expired ones, push refunds on."""
    from .services import pending_orders_check

    return pending_orders_check()
