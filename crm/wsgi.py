import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.base")
application = get_wsgi_application()

from crm.core.checks import require_secret_key_to_serve  # noqa: E402

require_secret_key_to_serve()
