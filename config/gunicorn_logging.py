"""gunicorn's logger with link tokens and query strings removed from every access-log line
(see config/gunicorn.conf.py)."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from config.logfilters import redact


class RedactingLogger(Logger):  # type: ignore[misc]
    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f"):  # request line, path, referer
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        atoms["q"] = ""  # query string
        return atoms
