"""Login brute force is throttled per account and per client address, on the login page and
in the admin, with a clear lock-out page (django-axes)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def _login(client: Client, username: str, password: str, url: str | None = None) -> Any:
    return client.post(url or reverse("login"), {"username": username, "password": password})


def test_guessing_one_accounts_password_locks_it_with_a_clear_message(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    make_user("victim")
    statuses = [
        _login(Client(REMOTE_ADDR=f"10.0.0.{i}"), "victim", f"guess{i}").status_code
        for i in range(4)
    ]
    # Three failures from three addresses: the account is locked, whatever the address.
    assert statuses == [200, 200, 429, 429]
    locked = _login(Client(REMOTE_ADDR="10.0.0.99"), "victim", PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed logins" in locked.content
    assert b"15 minutes" in locked.content
    # Other accounts are not affected.
    make_user("bystander")
    assert _login(Client(REMOTE_ADDR="10.0.0.99"), "bystander", PASSWORD).status_code == 302


def test_one_address_trying_many_accounts_is_locked_out(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    for name in ["u1", "u2", "u3", "u4"]:
        make_user(name)
    attacker = Client(REMOTE_ADDR="6.6.6.6")
    statuses = [_login(attacker, name, "wrong").status_code for name in ["u1", "u2", "u3", "u4"]]
    assert statuses[-1] == 429
    # Even the right password waits from that address.
    assert _login(attacker, "u4", PASSWORD).status_code == 429


def test_the_admin_login_is_throttled_too(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    make_user("root", is_staff=True, is_superuser=True)
    url = reverse("admin:login")
    client = Client(REMOTE_ADDR="8.8.4.4")
    statuses = [_login(client, "root", "wrong", url).status_code for _ in range(3)]
    assert statuses[-1] == 429
    assert _login(Client(REMOTE_ADDR="8.8.4.5"), "root", PASSWORD, url).status_code == 429


def test_a_successful_login_resets_the_count(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3
    make_user("forgetful")
    client = Client(REMOTE_ADDR="10.1.1.1")
    _login(client, "forgetful", "wrong")
    _login(client, "forgetful", "wrong")
    assert _login(client, "forgetful", PASSWORD).status_code == 302
    client.logout()
    _login(client, "forgetful", "wrong")
    assert _login(client, "forgetful", PASSWORD).status_code == 302
