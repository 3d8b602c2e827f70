"""The version of a row, as a client read it, and the check an update service makes once
it holds the row's lock, so a change committed meanwhile cannot slip between the two.

The API's ETag is `row_version(obj)`; a PATCH passes the tags of its `If-Match` to the
update service as `expected_version`, and the service calls `version_check` right after
its `select_for_update`. The version is an HMAC of the row's stored columns (not a plain
hash: a masked reader must not be able to test guesses of a masked phone against it)."""

import hashlib
import hmac
import json
from collections.abc import Collection

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext as _

from crm.core.exceptions import StaleVersion


def row_version(obj: models.Model) -> str:
    """A strong ETag over every stored column of the row (generated columns follow the others)."""
    values = {
        field.attname: getattr(obj, field.attname)
        for field in obj._meta.concrete_fields
        if not isinstance(field, models.GeneratedField)
    }
    body = json.dumps([obj._meta.label_lower, values], sort_keys=True, cls=DjangoJSONEncoder, ensure_ascii=False)
    digest = hmac.new(settings.SECRET_KEY.encode(), body.encode(), hashlib.sha256).hexdigest()
    return f'"{digest[:32]}"'


def version_check(obj: models.Model, expected_version: Collection[str] | None) -> None:
    """Refuse the change when the locked row is no longer the version the caller read
    (`None`: the caller asked for no check)."""
    if expected_version is None:
        return
    if row_version(obj) not in expected_version:
        raise StaleVersion(_("Someone changed it since you read it; read it again and repeat your change."))
