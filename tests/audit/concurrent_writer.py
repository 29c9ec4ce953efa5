"""A separate OS process that appends audit events through the real service.

Used by test_concurrent_writers_postgres.py:  python concurrent_writer.py NAME COUNT GO_FILE
Settings (database, key file, checkpoint directory) come from the environment.
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path


def main() -> None:
    name, count, go_file = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    import django

    django.setup()
    from django.db import connection, transaction

    from galenic.audit import services as audit
    from galenic.core.context import action_context

    connection.ensure_connection()
    (go_file.parent / f"ready-{name}").touch()  # set up and connected: the test may say go
    rng = random.Random(name)
    deadline = time.monotonic() + 30
    while not go_file.exists():  # start together with the other writer
        if time.monotonic() > deadline:
            sys.exit("never got the go signal")
        time.sleep(0.005)
    written = 0
    with action_context("test"):
        while written < count:
            with transaction.atomic():
                for _ in range(min(rng.randint(1, 3), count - written)):
                    written += 1
                    audit.record(
                        actor=None,
                        action="test.concurrent",
                        object_type="test.writer",
                        object_id=f"{name}-{written}",
                        new={"writer": name, "n": written},
                    )
    print(f"{name} wrote {written}")


if __name__ == "__main__":
    main()
