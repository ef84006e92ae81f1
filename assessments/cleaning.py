"""Every text field of every form is cleaned the same way before it reaches the database.

`CleanFieldsMixin` goes first in each form's bases. For each text field (passwords excepted) it:
- normalises the text to Unicode NFC (so "é" typed two ways is one value and one length);
- strips surrounding whitespace, zero-width spaces and byte-order marks;
- refuses control characters (tabs and line breaks are allowed only in multi-line fields),
  unpaired surrogates, non-characters and bidirectional overrides, which can make a name read
  differently from what is stored;
- checks the length after all that, against the field's max_length (every text field has one).
RegexField does not strip by default and Python's `$` matches before a final newline, so a
colour like "#1d5aa6\\n" used to pass and then overflow a 7-character column: with the text
stripped first, such values are cleaned or refused by the form, never by the database.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator

ALWAYS_BAD = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 and C1 controls except tab, LF, CR
    "\ud800-\udfff"  # unpaired surrogates
    "\ufffe\uffff"  # non-characters
    "\u202a-\u202e\u2066-\u2069"  # bidirectional embeddings, overrides and isolates
)
_BAD_MULTILINE = re.compile(f"[{ALWAYS_BAD}]")
_BAD_SINGLE_LINE = re.compile(f"[{ALWAYS_BAD}\t\n\r]")
_EDGES = " \t\n\r\u00a0\u200b\u2028\u2029\ufeff"
DEFAULT_MAX_LENGTH = 1000
MAX_PASSWORD_LENGTH = 4096  # hashing a megabyte-long password is a cheap way to load a server


def clean_text(value: str, *, multiline: bool) -> str:
    value = unicodedata.normalize("NFC", value).strip(_EDGES).strip()
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    bad = (_BAD_MULTILINE if multiline else _BAD_SINGLE_LINE).search(value)
    if bad:
        raise forms.ValidationError(
            "This contains a character that can't be used here (U+%(code)04X).",
            code="bad_character",
            params={"code": ord(bad.group())},
        )
    return value


def _limit(field: forms.CharField, length: int) -> None:
    if field.max_length is None:
        field.max_length = length
        field.validators.append(MaxLengthValidator(length))
        field.widget.attrs.setdefault("maxlength", str(length))


def _harden(field: forms.CharField) -> None:
    if getattr(field, "_cleaned_text", False):
        return
    if isinstance(field.widget, forms.PasswordInput):
        _limit(field, MAX_PASSWORD_LENGTH)  # otherwise taken exactly as typed
        return
    multiline = isinstance(field.widget, forms.Textarea)
    original = field.to_python

    def to_python(value: Any) -> Any:
        if isinstance(value, str):
            value = clean_text(value, multiline=multiline)
        return original(value)

    field.to_python = to_python  # type: ignore[method-assign]
    field._cleaned_text = True  # type: ignore[attr-defined]
    _limit(field, DEFAULT_MAX_LENGTH)


class CleanFieldsMixin:
    """Put first in a form's bases: cleans every text field as described above."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._harden_fields()

    def _harden_fields(self) -> None:
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                _harden(field)

    def full_clean(self) -> None:
        self._harden_fields()  # fields a form added after __init__, too
        super().full_clean()  # type: ignore[misc]
