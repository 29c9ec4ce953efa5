"""Run several ``galenic`` commands in one process, one Django start-up for all of them (the
same command functions as the ``galenic`` executable; settings from the environment).

    python rel_cli.py '[{"args": ["audit", "verify"], "env": {}}, ...]'

Prints one JSON list: [{"code", "stdout", "stderr"}, ...].
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    from typer.testing import CliRunner

    from galenic.cli import app

    runner = CliRunner()
    results = []
    for command in json.loads(sys.argv[1]):
        result = runner.invoke(app, command["args"], env=command.get("env") or None)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            import traceback

            stderr = "".join(traceback.format_exception(result.exception))
        else:
            stderr = result.stderr
        results.append({"code": result.exit_code, "stdout": result.stdout, "stderr": stderr})
    sys.stdout.write(json.dumps(results))


if __name__ == "__main__":
    main()
