"""Template context shared by every page."""

from crm.core.masking import masker_for


def masking(request):
    """`masker` for the filters (`{{ value|text:masker }}`) and `reveal` for styling."""
    masker = masker_for(getattr(request, "user", None))
    return {"masker": masker, "reveal": masker.reveal}


def notifications(request):
    """The navigation's counts, computed only when a page shows them: unread notifications
    (`notifications_unread`) and items waiting for the user's decision (`waiting.<name>`,
    from the counters the apps register in `crm.core.notifications`)."""
    from django.utils.functional import SimpleLazyObject

    from crm.core.notifications import navigation_counts

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    counts = SimpleLazyObject(lambda: navigation_counts(user))  # one query for both, when shown
    return {
        "notifications_unread": SimpleLazyObject(lambda: counts["unread"]),
        "waiting": SimpleLazyObject(lambda: counts["waiting"]),
    }
