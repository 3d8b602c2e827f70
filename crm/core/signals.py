from django.apps import apps
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def sync_roles_after_migrate(sender, app_config=None, **kwargs):
    """Keep the role groups in step with the code after every migrate (framework glue)."""
    last_app = list(apps.get_app_configs())[-1]
    if app_config is None or app_config.label != last_app.label:
        return  # permissions of later apps do not exist yet
    from crm.core.roles import roles_sync

    roles_sync()
