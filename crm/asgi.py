import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
application = get_asgi_application()

from crm.core.checks import require_secret_key_to_serve  # noqa: E402

require_secret_key_to_serve()
