"""Keep link tokens out of logs: they are credentials, and log files are read by more people,
kept longer and copied further than the database that stores only their hashes."""

from __future__ import annotations

import logging
import re

# Routes whose last path segment is a token (config/urls.py, assessments/survey_urls.py,
# reports/urls.py). Anything after "?" is dropped too: no page takes secrets in a query
# string, but a mistyped link might carry one.
TOKEN_PATH = re.compile(r"/(i|shared|join-org)/[^/\s?\"']+")
QUERY = re.compile(r"\?[^\s\"']*")


def redact(text: str) -> str:
    return QUERY.sub("", TOKEN_PATH.sub(r"/\1/[redacted]", text))


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True
