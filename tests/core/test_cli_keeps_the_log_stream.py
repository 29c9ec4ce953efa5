"""A command run in-process (typer's CliRunner, as the tests do) must not reconfigure logging:
django.setup() would bind the console handler to the runner's temporary stderr, closed right
after, and every later log line (a gateway thread, a server error) would fail with "I/O
operation on closed file"."""

from __future__ import annotations

import logging

from typer.testing import CliRunner

from galenic.cli import app


def test_console_handler_outlives_an_in_process_command(db):
    before = list(logging.getLogger().handlers)
    CliRunner().invoke(app, ["signatures", "roster"])
    after = logging.getLogger().handlers
    assert after == before
    for handler in after:
        stream = getattr(handler, "stream", None)
        assert not getattr(stream, "closed", False), stream
