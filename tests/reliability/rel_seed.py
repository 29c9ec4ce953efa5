"""Seed a reliability site (run as its own process, settings from the environment).

    python rel_seed.py BATCHES

Migrates, loads the demo site (people of every role with the demo password, equipment, the demo
MBRs), makes MBR-REL (data/reliability.yaml) effective through the real lifecycle and issues
BATCHES batches REL-0001... of it, released (signed) and started, then writes a checkpoint.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DATA = Path(__file__).with_name("data")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)

    from galenic.accounts.demo import DEMO_PASSWORD
    from galenic.accounts.models import User
    from galenic.audit.services import write_checkpoint
    from galenic.core.context import action_context
    from galenic.core.demo import seed_all
    from galenic.execution import services
    from galenic.recipes import services as recipes
    from galenic.recipes.demo import REASON, _bring_to_effective
    from galenic.signatures import services as signing
    from galenic.signatures.selectors import has_acknowledged_policy

    with action_context("system"):
        for _line in seed_all():
            pass
        people = {u.username: u for u in User.objects.all()}

        def authority(user: User) -> signing.SignerAuthority:
            return signing.authenticate_signer(
                session=None, actor=user, user_id=user.username, password=DEMO_PASSWORD
            )

        for name in ("olivia", "oscar", "victor", "sam"):
            if not has_acknowledged_policy(people[name]):
                signing.acknowledge_policy(actor=people[name], authority=authority(people[name]))
        version = recipes.import_text(
            actor=people["petra"], text=(DATA / "reliability.yaml").read_text(), reason=REASON
        )
        _bring_to_effective(version, people)
        for n in range(1, count + 1):
            number = f"REL-{n:04d}"
            services.create_batch(actor=people["sam"], mbr="MBR-REL", number=number)
            services.release_to_floor(
                actor=people["sam"], number=number, authority=authority(people["sam"])
            )
            services.start_batch(actor=people["olivia"], number=number)
    write_checkpoint(kind="manual")
    print("seeded", count)


if __name__ == "__main__":
    main()
