"""The Celery task that sends webhook deliveries (crm/webhooks/delivery.py)."""

from celery import shared_task

from crm.webhooks import delivery


@shared_task(bind=True, name="crm.webhooks.tasks.webhook_deliver", acks_late=True)
def webhook_deliver(self, delivery_id: int) -> str:
    """Attempt one delivery; retry with the back-off the attempt recorded, until it is
    delivered or failed for good (WEBHOOK_MAX_ATTEMPTS, counted on the row)."""
    outcome, delay = delivery.delivery_attempt(delivery_id=delivery_id)
    if outcome == delivery.RETRY:
        raise self.retry(countdown=delay, max_retries=None)
    return outcome
