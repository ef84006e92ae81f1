"""Tokens at rest: encrypted with a key derived from OPREADY_ENCRYPTION_KEY (or SECRET_KEY).

A stored GitHub token is decrypted only inside the scan task that uses it; it is never shown,
logged or written into a URL.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet(purpose: str) -> Fernet:
    # One key per purpose, so a value sealed for one use never decrypts as another.
    secret = settings.OPREADY_ENCRYPTION_KEY or settings.SECRET_KEY
    key = hashlib.sha256(f"opready/{purpose}/v1:".encode() + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(token: str, *, purpose: str = "scan-tokens") -> bytes:
    return _fernet(purpose).encrypt(token.encode())


def decrypt(data: bytes, *, purpose: str = "scan-tokens") -> str | None:
    """The token, or None when it cannot be decrypted (the key changed): ask for it again."""
    if not data:
        return None
    try:
        return _fernet(purpose).decrypt(bytes(data)).decode()
    except InvalidToken:
        return None
