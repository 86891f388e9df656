"""Let Wagtail's form widgets run under a CSP without 'unsafe-inline' scripts.

Wagtail's date and chooser widgets end with an inline initialiser such as
``<script>initDateChooser("id_date", {"format": "Y-m-d"});</script>`` — written into a
template for dates and hard-coded in Python for choosers, so a nonce cannot reach
them. This middleware finds inline scripts in an HTML response that are *exactly*
one call to a known Wagtail initialiser with a quoted id and plain JSON options, and
adds their SHA-256 hashes to that response's ``script-src``. Any other inline script
(an injected one included) stays blocked: the shape admits no code, only data.
"""

import base64
import hashlib
import json
import re

from django.conf import settings
from django.utils.csp import CSP

#: Wagtail's widget initialisers (wagtail/admin/widgets/, templates/wagtailadmin/widgets/).
WIDGET_INITIALISERS = (
    "initDateChooser",
    "initTimeChooser",
    "initDateTimeChooser",
    "new Chooser",
    "new PageChooser",
    "new SnippetChooser",
    "new DocumentChooser",
    "new ImageChooser",
    "new TaskChooser",
)

_INLINE_SCRIPT = re.compile(r"<script>(?P<body>[^<]*)</script>")
_WIDGET_CALL = re.compile(
    # Ids are Django field ids; the date templates pass them through escapejs ("-" → \u002D).
    r"(?P<call>{})\(\"(?:[A-Za-z0-9_-]|\\u002D)+\", (?P<options>\{{[^<]*\}})\);".format(
        "|".join(re.escape(name) for name in WIDGET_INITIALISERS)
    )
)


def widget_script_hashes(html: str) -> list[str]:
    """CSP hash sources for the widget initialisers in ``html``, in order, without repeats."""
    hashes: dict[str, None] = {}
    for script in _INLINE_SCRIPT.finditer(html):
        body = script["body"]
        call = _WIDGET_CALL.fullmatch(body)
        if call is None or not _is_json_object(call["options"]):
            continue
        digest = hashlib.sha256(body.encode()).digest()
        hashes[f"'sha256-{base64.b64encode(digest).decode()}'"] = None
    return list(hashes)


def _is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


class WidgetScriptHashMiddleware:
    """Sits inside ContentSecurityPolicyMiddleware, which then sends the widened policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A view may have set its own policy (django.views.decorators.csp); widen that one.
        policy = getattr(response, "_csp_config", settings.SECURE_CSP)
        if (
            not policy
            or response.streaming
            or not response.get("Content-Type", "").startswith("text/html")
        ):
            return response
        hashes = widget_script_hashes(response.content.decode(response.charset, "replace"))
        if hashes:
            script_src = list(policy.get("script-src", [CSP.SELF]))
            response._csp_config = {**policy, "script-src": script_src + hashes}
        return response
