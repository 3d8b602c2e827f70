"""Row-level visibility: one queryset method every page, export, search and admin uses."""

from django.db import models


class VisibleQuerySet(models.QuerySet):
    """`visible_to(user, action)` narrows a queryset to the rows a user may act on.

    Superusers see everything; a user without the model permission for the action
    sees nothing; a user with the "view all" permission sees every row; anyone else
    sees the rows they own through `owner_path`.
    """

    owner_path = "owner"
    view_all_permission = None  # "app.codename"; defaults to the model's own view_all_<model>

    def visible_to(self, user, action="view"):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        opts = self.model._meta
        if not user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
            return self.none()
        view_all = self.view_all_permission or f"{opts.app_label}.view_all_{opts.model_name}"
        if user.has_perm(view_all):
            return self
        return self.owned_by(user)

    def owned_by(self, user):
        """The rows `user` owns; models with a wider rule override this."""
        return self.filter(**{self.owner_path: user})
