from crm.core.visibility import VisibleQuerySet


class SegmentQuerySet(VisibleQuerySet):
    """A rep sees the segments they made; a sales manager (`view_all_segment`) every one."""

    owner_path = "owner"


class CampaignQuerySet(VisibleQuerySet):
    """A rep sees their campaigns; a sales manager (`view_all_campaign`) every one."""

    owner_path = "owner"


class RecipientQuerySet(VisibleQuerySet):
    """A recipient is seen with its campaign."""

    def visible_to(self, user, action="view"):
        from marketing.models import Campaign

        return self.filter(campaign__in=Campaign.objects.visible_to(user, "view").values("pk"))
