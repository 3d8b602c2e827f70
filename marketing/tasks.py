"""Celery tasks of marketing: starting the campaigns whose time has come, and handing each
sending campaign's recipients to the mail queue at its pace."""

from celery import shared_task

from crm.core.exceptions import DomainError
from crm.core.workflow import SYSTEM


@shared_task(name="marketing.tasks.campaigns_start_due", ignore_result=True)
def campaigns_start_due() -> int:
    """Start every scheduled campaign whose time has come (also run by `send_due_campaigns`)."""
    from marketing import selectors, services

    started = 0
    for campaign_id in selectors.campaigns_due():
        try:
            services.campaign_start(actor=SYSTEM, campaign_id=campaign_id)
            started += 1
        except DomainError:  # started meanwhile by another worker, or cancelled
            continue
    return started


@shared_task(name="marketing.tasks.campaign_send_batch", ignore_result=True, acks_late=True)
def campaign_send_batch(campaign_id: int) -> int:
    """Hand one batch to the mail queue and come back for the next one a batch later."""
    from marketing import services

    handed, left, pause = services.campaign_batch_hand(campaign_id=campaign_id)
    if left:
        campaign_send_batch.apply_async(args=(campaign_id,), countdown=pause)
    else:
        services.campaign_finish_if_done(campaign_id=campaign_id)
    return handed
