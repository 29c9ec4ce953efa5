"""pytest plugin loaded with ``-p`` (before pytest-django reads settings): test-only environment.

Cheap Argon2id parameters (same algorithm, lower cost) and a private data directory per run.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("GALENIC_ARGON2_MEMORY_KIB", "1024")
os.environ.setdefault("GALENIC_ARGON2_TIME_COST", "1")
os.environ.setdefault("GALENIC_ARGON2_PARALLELISM", "1")
os.environ["GALENIC_DATA_DIR"] = os.environ.get("GALENIC_TEST_DATA_DIR") or tempfile.mkdtemp(
    prefix="galenic-test-"
)
