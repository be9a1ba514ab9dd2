"""Logging: structlog on top of the stdlib, JSON lines or console lines, secrets redacted.

Every record, ours and the libraries' (kafka-python, APScheduler, trafilatura),
goes through one stdlib handler and one processor chain, so a line is always
JSON in production and never carries a secret. Context such as the feed or
item id is bound with `structlog.contextvars.bound_contextvars(feed=..., item_id=...)`.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import time
from collections.abc import Callable, Mapping
from datetime import date
from enum import Enum
from pathlib import PurePath
from typing import Any, TextIO

import structlog
from pydantic import BaseModel, SecretBytes, SecretStr
from structlog.typing import EventDict, Processor, WrappedLogger

from monitor.config import LogSettings

REDACTED = "[REDACTED]"

# Words that make a key secret when they appear as a whole part of it
# (sasl_password, auth_token, client-secret), so `tokens` or `max_tokens`
# (shingle counts in dedup) stay readable.
SECRET_WORDS = frozenset(
    {"password", "passwd", "pwd", "secret", "token", "apikey", "authorization", "credentials"}
)
SECRET_PHRASES = ("api_key", "private_key", "access_key", "secret_key")

_NAMES = r"password|passwd|pwd|secret|token|api_key|apikey|access_token|sasl_password"
# user:password@ in URLs (feeds behind basic auth, broker URLs).
_URL_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9_+.-]*://[^/\s:@]+):[^@\s/]+@")
# ?token=... in query strings and password=... / secret: ... in free text.
_PAIR = re.compile(
    rf"(?P<head>\b(?:\w+[_-])?(?:{_NAMES})\b[\"']?\s*[=:]\s*[\"']?)(?P<value>[^\s&,;\"']+)",
    re.IGNORECASE,
)

_PAIR_HINTS = ("pass", "pwd", "secret", "token", "key")

_MAX_DEPTH = 8
_handler: logging.Handler | None = None


@functools.lru_cache(maxsize=4096)
def is_secret_key(key: str) -> bool:
    """Whether a key names a secret (password, token, sasl_password, api-key...)."""
    norm = re.sub(r"[^a-z0-9]+", "_", key.lower()).strip("_")
    return bool(SECRET_WORDS.intersection(norm.split("_"))) or any(
        phrase in norm for phrase in SECRET_PHRASES
    )


def redact_text(text: str) -> str:
    """Mask passwords in URLs and `name=value` secrets inside a free-text string."""
    if "@" in text:
        text = _URL_USERINFO.sub(rf"\g<head>:{REDACTED}@", text)
    # Substring tests are ~50x cheaper than the regex; most strings (titles,
    # article text, ids) contain none of these and skip it.
    lowered = text.lower()
    if any(hint in lowered for hint in _PAIR_HINTS):
        text = _PAIR.sub(rf"\g<head>{REDACTED}", text)
    return text


def redact_value(value: Any, depth: int = 0) -> Any:
    """Return `value` with secrets masked: SecretStr, secret keys, secrets in strings."""
    if isinstance(value, SecretStr | SecretBytes):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if depth >= _MAX_DEPTH:
        return value
    if isinstance(value, BaseModel):
        # model_dump keeps SecretStr objects, so they are masked below.
        value = value.model_dump()
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and is_secret_key(k) else redact_value(v, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(v, depth + 1) for v in value]
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask every secret in the event before it is rendered."""
    out: EventDict = {}
    for key, value in event_dict.items():
        if key.startswith("_"):  # structlog's own metadata (_record, _from_structlog)
            out[key] = value
        elif is_secret_key(key):
            out[key] = REDACTED
        else:
            out[key] = redact_value(value)
    return out


def _json_default(obj: Any) -> Any:
    # Readable values for the types the worker logs most; repr() for the rest.
    if isinstance(obj, date):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, PurePath):
        return str(obj)
    return repr(obj)


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
        structlog.processors.StackInfoRenderer(),
        # Tracebacks become text before redaction, so secrets in them are masked
        # too; never the rich/locals formatters, which would print variables.
        structlog.processors.format_exc_info,
        redact_secrets,
    ]


NOISY_LIBRARIES = (
    "kafka",
    "apscheduler",
    "trafilatura",
    "htmldate",
    "courlan",
    "httpx",
    "httpcore",
)


class RepeatFilter(logging.Filter):
    """Let a library's repeated line through once per `interval` seconds.

    Lines are the same when they come from the same logger at the same level with the
    same message template (kafka-python logs "Connect attempt to %s returned error %s"
    for every retry, many times a second, while a broker is down). The next line let
    through carries `repeated`: how many were held back since the last one. Our own
    loggers are never filtered; neither are lines below WARNING (already off).
    """

    def __init__(
        self,
        interval: float,
        prefixes: tuple[str, ...] = NOISY_LIBRARIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.interval = interval
        self.prefixes = prefixes
        self.clock = clock
        self._last: dict[tuple[str, int, str], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """True to log `record`; False to hold it back (counted)."""
        name = record.name
        if self.interval <= 0 or not name.startswith(self.prefixes):
            return True
        key = (name, record.levelno, str(record.msg))
        now = self.clock()
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self.interval:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            record.repeated = seen[1]
        if len(self._last) > 1024:  # many distinct templates: start over
            self._last.clear()
        self._last[key] = (now, 0)
        return True


def configure_logging(settings: LogSettings, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging to `stream` (stdout) as JSON or console lines."""
    global _handler
    out = stream if stream is not None else sys.stdout
    tty = bool(getattr(out, "isatty", lambda: False)())
    fmt = settings.format if settings.format != "auto" else ("console" if tty else "json")
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=_json_default)
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=tty, exception_formatter=structlog.dev.plain_traceback
        )

    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        # `repeated`: set by RepeatFilter on a library line after held-back repeats.
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder(allow=("repeated",))],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    handler.addFilter(RepeatFilter(settings.library_repeat_s))

    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    root.addHandler(handler)
    root.setLevel(getattr(logging, settings.level))
    _handler = handler
    # Chatty libraries: their INFO lines (every connection, every metadata refresh)
    # drown the worker's own events; their warnings and errors still come through.
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        # Not cached: tests (capture_logs) and a second configure_logging call
        # must reach loggers created at import time.
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """Return a structlog logger named `name` (usually the module's `__name__`)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger
