"""Who is calling: the client's address behind the nginx on this machine.

gunicorn listens on loopback only, so every request through nginx arrives from
127.0.0.1. nginx (deploy/nginx/phs-archive.conf) says who it served in ``X-Real-IP``,
overwriting anything the client sent, and appends the same address to
``X-Forwarded-For``. Those headers are believed only from a trusted proxy
(``PHS_TRUSTED_PROXIES``, the addresses gunicorn's ``forwarded_allow_ips`` trusts too):
from anyone else they are the client's own words.

The login throttle (django-axes, ``AXES_CLIENT_IP_CALLABLE``) and ``/healthz`` both ask
here, so they agree on who is local.
"""

import ipaddress

from django.conf import settings

#: The machine itself; a request relayed by nginx counts only if nginx's client was local.
LOOPBACK = frozenset({"127.0.0.1", "::1"})


def client_address(request) -> str | None:
    """The address of the client that made ``request``: the peer, or, when the peer is
    a trusted proxy, the address the proxy reports (``X-Real-IP``, else the last
    ``X-Forwarded-For`` entry, which is the one the proxy added)."""
    peer = request.META.get("REMOTE_ADDR") or None
    if peer not in settings.PHS_TRUSTED_PROXIES:
        return peer
    real_ip = request.META.get("HTTP_X_REAL_IP", "").strip()
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").rsplit(",", 1)[-1].strip()
    reported = real_ip or forwarded
    if not reported:
        return peer  # not relayed: a local caller (a monitor, gunicorn probed directly)
    try:
        return str(ipaddress.ip_address(reported))
    except ValueError:
        return None  # a proxy that reports nonsense: nobody we know


def is_local(request) -> bool:
    """Whether the client is this machine itself (directly, or through nginx)."""
    return client_address(request) in LOOPBACK
