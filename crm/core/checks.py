from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def check_secret_key_is_set(app_configs, **kwargs):
    if settings.SECRET_KEY_FROM_ENVIRONMENT:
        return []
    return [checks.Error("SECRET_KEY is not set in the environment.", id="crm.E001")]


def require_secret_key_to_serve():
    """Called by the WSGI/ASGI entry points: a server without a stable secret would sign
    sessions with a key that changes on every restart."""
    from django.core.exceptions import ImproperlyConfigured

    if not settings.SECRET_KEY_FROM_ENVIRONMENT and not settings.DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY in the environment before serving (or DEBUG=1 for development).")


@checks.register()
def check_audit_checkpoint_signer(app_configs, **kwargs):
    """AUDIT_CHECKPOINT_SIGNER imports and builds, so write_audit_checkpoint does not fail at its first run."""
    from django.core.exceptions import ImproperlyConfigured

    from crm.core.checkpoints import checkpoint_signer

    try:
        checkpoint_signer()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), id="crm.E002")]
    return []
