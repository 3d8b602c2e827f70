"""Which URLs a webhook may be sent to, and the addresses a delivery connects to.

An endpoint is https (http only with WEBHOOK_ALLOW_HTTP), and its host must not resolve to
a private, loopback, link-local, reserved or multicast address (WEBHOOK_ALLOW_PRIVATE_HOSTS
lifts that, for development and tests): otherwise a webhook would let whoever registers an
endpoint make the server call its own network (server-side request forgery). The check
runs when the endpoint is saved and again before every attempt, since a name's addresses
can change after it was registered.

An attempt resolves the name once (`url_addresses`) and connects to the addresses it
checked, never to what the name resolves to a moment later: a name that answers a public
address to the check and 127.0.0.1 to the connection (DNS rebinding) reaches nothing.
"""

import ipaddress
import socket
from typing import Any
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

#: What `socket.getaddrinfo` gives to connect to one address: (family, sockaddr).
Address = tuple[socket.AddressFamily, Any]


def _private(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def _parts(url: str) -> tuple[SplitResult | None, str]:
    """The URL's parts, or why it is not a webhook URL."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None, _("Enter a valid URL.")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None, _("Enter a valid URL.")
    if parts.scheme == "http" and not settings.WEBHOOK_ALLOW_HTTP:
        return None, _("The URL must start with https://.")
    return parts, ""


def _resolved(parts: SplitResult) -> tuple[list[Address], str]:
    """The host's addresses, each checked, or why the host may not be called."""
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return [], _("The host %(host)s cannot be found.") % {"host": host}
    if not settings.WEBHOOK_ALLOW_PRIVATE_HOSTS and any(_private(str(info[4][0])) for info in found):
        return [], _("The host %(host)s is a private or local address; webhooks go to public addresses only.") % {
            "host": host
        }
    return [(family, sockaddr) for family, _type, _proto, _name, sockaddr in found], ""


def url_refusal(url: str) -> str:
    """Why webhooks may not be sent to `url`, or "" when they may (a host that does not
    resolve yet is accepted with WEBHOOK_ALLOW_PRIVATE_HOSTS, which checks no address)."""
    parts, refusal = _parts(url)
    if parts is None or settings.WEBHOOK_ALLOW_PRIVATE_HOSTS:
        return refusal
    return _resolved(parts)[1]


def url_addresses(url: str) -> tuple[list[Address], str]:
    """The addresses an attempt to `url` connects to, resolved once and checked, or why it
    may not be sent there (then no address)."""
    parts, refusal = _parts(url)
    if parts is None:
        return [], refusal
    return _resolved(parts)
