"""Registers the site-wide admin pages (Settings → Sign-in lockouts) with Wagtail."""

from wagtail import hooks

from .lockouts import LockoutViewSet


@hooks.register("register_admin_viewset")
def register_lockouts():
    return LockoutViewSet("signin_lockouts", url_prefix="signin-lockouts")
