"""Exit codes of `news-monitor`, and the one-line error a command raises to use them.

0: all good. 1: some inputs failed (a `rejected` decision, a failed source, file or
fetch, messages Kafka did not acknowledge, a topic or broker that cannot be read).
2: usage or configuration error (a bad argument or setting, found before any work).
"""

from __future__ import annotations

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """A user-caused error: one line for stderr, naming what to change, and the exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code
