"""Sign-in throttling (django-axes): a user is locked out at an address after repeated
wrong passwords, sees why and until when, and an operator can lift the lock."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django.utils.formats import date_format
from wagtail.models import ModelLogEntry

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
OUTSIDE = "203.0.113.7"  # TEST-NET-3: an address on the internet
ELSEWHERE = "198.51.100.20"


PASSWORD = "pw"  # tests.conftest.make_user gives every user this one


def sign_in(client, username, password=PASSWORD, **headers):
    return client.post(LOGIN, {"username": username, "password": password}, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def lock_out(client, username, **headers):
    """Wrong passwords up to the limit; returns the last answer (the lockout page)."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, username, "wrong", **headers)
        assert response.status_code == 200
        assert "didn&#x27;t match" in response.content.decode()
    response = sign_in(client, username, "wrong", **headers)
    assert response.status_code == 429
    return response


def test_the_limit_and_cool_off_are_five_and_fifteen_minutes():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_repeated_wrong_passwords_lock_out_with_a_clear_page(client, curator):
    response = lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 429
    page = response.content.decode()
    # The ordinary sign-in page, saying why and until when, not a bare error.
    assert 'name="password"' in page
    until = timezone.localtime(timezone.now() + timedelta(minutes=15))
    assert "Too many failed sign-ins for this user from your address" in page
    assert f"locked until {until:%H:%M}" in page or (
        f"locked until {until - timedelta(minutes=1):%H:%M}" in page
    )
    assert "ask an administrator" in page
    assert "didn&#x27;t match" not in page


def test_the_right_password_is_refused_while_locked(client, curator):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    response = sign_in(client, "curator", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 429
    assert "locked until" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/", REMOTE_ADDR=OUTSIDE).status_code == 302  # to the login


def test_other_users_and_other_addresses_are_not_affected(client, curator, reviewer):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    assert signed_in(sign_in(client, "reviewer", REMOTE_ADDR=OUTSIDE))
    client.logout()
    assert signed_in(sign_in(client, "curator", REMOTE_ADDR=ELSEWHERE))


def test_the_address_is_the_one_nginx_reports(client, curator):
    """Through nginx every request comes from loopback: X-Real-IP tells the clients apart,
    and is believed only from the proxy."""
    lock_out(client, "curator", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=OUTSIDE)
    assert AccessAttempt.objects.get().ip_address == OUTSIDE
    via_nginx = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": f"10.0.0.1, {ELSEWHERE}"}
    assert signed_in(sign_in(client, "curator", **via_nginx))  # the last hop is nginx's
    client.logout()
    assert (
        sign_in(client, "curator", HTTP_X_REAL_IP=OUTSIDE, REMOTE_ADDR="127.0.0.1").status_code
        == 429
    )
    # A client cannot pick its address by sending the header itself.
    spoofed = {"REMOTE_ADDR": ELSEWHERE, "HTTP_X_REAL_IP": OUTSIDE}
    assert signed_in(sign_in(client, "curator", **spoofed))


def test_the_lock_lifts_after_the_cool_off(client, curator):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert signed_in(sign_in(client, "curator", REMOTE_ADDR=OUTSIDE))
    assert not AccessAttempt.objects.exists()  # a success forgets the failures


def test_attempts_during_the_lock_do_not_extend_it(client, curator):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert sign_in(client, "curator", "wrong", REMOTE_ADDR=OUTSIDE).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert signed_in(sign_in(client, "curator", REMOTE_ADDR=OUTSIDE))


@pytest.mark.parametrize(
    "command",
    [("axes_reset",), ("axes_reset_username", "curator"), ("axes_reset_ip", OUTSIDE)],
)
def test_an_operator_lifts_the_lock(client, curator, command):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    call_command(*command, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert signed_in(sign_in(client, "curator", REMOTE_ADDR=OUTSIDE))


def test_force_login_is_not_throttled(client, curator):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    client.force_login(curator)
    assert client.get("/admin/", REMOTE_ADDR=OUTSIDE).status_code == 200


LOCKOUTS = "/admin/signin-lockouts/"


def test_a_superuser_lifts_the_lock_in_the_admin(client, curator, admin_user):
    lock_out(client, "curator", REMOTE_ADDR=OUTSIDE)
    attempt = AccessAttempt.objects.get()
    admin = type(client)()
    admin.force_login(admin_user)
    listing = admin.get(LOCKOUTS).content.decode()
    assert "curator" in listing and OUTSIDE in listing
    until = timezone.localtime(attempt.attempt_time + timedelta(minutes=15))
    assert date_format(until, "DATETIME_FORMAT") in listing  # "Locked until"
    assert f'href="{LOCKOUTS}delete/{attempt.pk}/"' in listing
    confirm = admin.get(f"{LOCKOUTS}delete/{attempt.pk}/")
    assert confirm.status_code == 200 and "Lift the lock" in confirm.content.decode()
    response = admin.post(f"{LOCKOUTS}delete/{attempt.pk}/", follow=True)
    assert f"Sign-in is open again for “curator” from {OUTSIDE}." in response.content.decode()
    assert not AccessAttempt.objects.exists()
    assert ModelLogEntry.objects.filter(action="wagtail.delete", user=admin_user).count() == 1
    assert signed_in(sign_in(client, "curator", REMOTE_ADDR=OUTSIDE))


@pytest.mark.parametrize("role", ["curator", "reviewer", "operator"])
def test_other_roles_cannot_see_or_lift_locks(client, make_user, role, request):
    lock_out(client, "someone", REMOTE_ADDR=OUTSIDE)
    attempt = AccessAttempt.objects.get()
    client.force_login(request.getfixturevalue(role))
    assert client.get(LOCKOUTS).status_code in (302, 403)
    assert client.post(f"{LOCKOUTS}delete/{attempt.pk}/").status_code in (302, 403)
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
