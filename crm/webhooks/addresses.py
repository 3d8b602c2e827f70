"""Which URLs a webhook may be sent to.

An endpoint is https (http only with WEBHOOK_ALLOW_HTTP), and its host must not resolve to
a private, loopback, link-local, reserved or multicast address (WEBHOOK_ALLOW_PRIVATE_HOSTS
lifts that, for development and tests): otherwise a webhook would let whoever registers an
endpoint make the server call its own network (server-side request forgery). The check
runs when the endpoint is saved and again before every attempt, since a name's addresses
can change after it was registered.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_refusal(url: str) -> str:
    """Why webhooks may not be sent to `url`, or "" when they may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return _("Enter a valid URL.")
    if parts.scheme not in ("https", "http") or not host:
        return _("Enter a valid URL.")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        return _("The URL must start with https://.")
    if settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return ""
    try:
        found = socket.getaddrinfo(host, port or (443 if parts.scheme == "https" else 80), proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return _("The host %(host)s cannot be found.") % {"host": host}
    if any(_private(str(info[4][0])) for info in found):
        return _("The host %(host)s is a private or local address; webhooks go to public addresses only.") % {
            "host": host
        }
    return ""
