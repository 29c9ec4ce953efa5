"""A separate OS process acting on a batch through the real services (another app process).

    python concurrent_operator.py ACTION USER BATCH GO_FILE

ACTION: perform (complete step 'clearance' with a signature) or record (record
clearance.temperature). Prints one JSON line: {"ok": true} or {"ok": false, "status", "field",
"message"}. Settings (database, data directory) come from the environment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    action, username, number, go_file = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    import django

    django.setup()
    from galenic.accounts.models import User
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError
    from galenic.execution import services
    from galenic.signatures import services as signatures
    from galenic.testing.support import PASSWORD

    user = User.objects.get(username=username)
    authority = None
    if action == "perform":
        authority = signatures.authenticate_signer(
            session=None, actor=user, user_id=username, password=PASSWORD
        )
    deadline = time.monotonic() + 30
    while not go_file.exists():  # start together with the other process
        if time.monotonic() > deadline:
            sys.exit("never got the go signal")
        time.sleep(0.001)
    try:
        with action_context("test"):
            if action == "perform":
                services.perform_step(
                    actor=user, number=number, step_key="clearance", authority=authority
                )
            else:
                services.record_value(
                    actor=user, number=number, step_key="clearance", key="temperature", value="21"
                )
    except GalenicError as exc:
        print(
            json.dumps(
                {"ok": False, "status": exc.status, "field": exc.field, "message": exc.message}
            )
        )
        return
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
