"""Machinery of the reliability suite (imported as ``reliability_support``).

A *site* is one Galenic installation of its own: a data directory (secret key, audit key,
checkpoints, static files) and a database (an SQLite file, or a database on a PostgreSQL
server). The suite builds one seeded template per run and clones it for each test, then drives
real app processes (gunicorn, the ``galenic`` command) against the clone, kills them, restarts
their database or fills their disk, and checks what is left with plain SQL and the verifiers.

Short mode (the default, inside ``./run test``) runs a few rounds of each fault; ``GALENIC_SOAK=1``
runs many more (see docs/reliability.md).
"""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SOAK = os.environ.get("GALENIC_SOAK", "") not in ("", "0")
DEMO_PASSWORD = "Galenic-demo-2026"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def soak(short: int, long: int) -> int:
    """How many rounds (or seconds): ``short`` in ./run test, ``long`` with GALENIC_SOAK=1."""
    return long if SOAK else short


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    predicate: Callable[[], Any], timeout: float = 30, interval: float = 0.05, what: str = ""
) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what or 'condition'} not met within {timeout} s")


def tested_vendor() -> str:
    """The database this pass of ``./run test`` is about (GALENIC_DATABASE_URL)."""
    url = os.environ.get("GALENIC_DATABASE_URL", "")
    return (
        "postgresql" if url.startswith(("postgres://", "postgresql://", "pgsql://")) else "sqlite"
    )


# --- databases ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str = "postgres"
    password: str = ""

    def url(self, database: str) -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "postgres", autocommit: bool = True) -> Any:
        import psycopg

        return psycopg.connect(
            dbname=database,
            user=self.user,
            password=self.password or None,
            host=self.host,
            port=self.port,
            autocommit=autocommit,
            connect_timeout=5,
        )

    def execute(self, statement: str, database: str = "postgres") -> None:
        with self.connect(database) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')  # type: ignore[arg-type]


def shared_pg_server() -> PgServer | None:
    """The PostgreSQL server of this test pass (never stopped or restarted by this suite)."""
    from galenic.env import parse_database_url

    url = os.environ.get("GALENIC_DATABASE_URL", "")
    if tested_vendor() != "postgresql":
        return None
    parsed = parse_database_url("GALENIC_DATABASE_URL", url)
    return PgServer(
        host=parsed.host or "127.0.0.1",
        port=int(parsed.port or 5432),
        user=parsed.user or "postgres",
        password=parsed.password,
    )


def checkout_suffix() -> str:
    import hashlib

    return hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]  # noqa: S324 - a name


class PrivatePostgres:
    """A PostgreSQL cluster of our own (initdb in a temporary directory, run as the ``postgres``
    OS user, on a free port) that a test may stop and start. The shared server is not ours."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.datadir = workdir / "pgdata"
        self.sockets = workdir / "pgsock"
        self.port = free_port()
        self.server = PgServer("127.0.0.1", self.port)
        self.log = workdir / "postgres.log"

    def _as_postgres(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)

    def available(self) -> str:
        """'' when a private cluster can be made here, else why not."""
        if not (PG_BIN / "initdb").exists():
            return f"no initdb in {PG_BIN}"
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "no 'postgres' OS user to run a private cluster as"
        return ""

    def init(self) -> None:
        for path in (self.workdir, self.sockets):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.sockets, "postgres")
            # The test's tmp directories are root's: let postgres reach its own directory.
            for parent in self.workdir.parents:
                if parent == Path("/"):
                    break
                with contextlib.suppress(OSError):
                    parent.chmod(parent.stat().st_mode | 0o011)
        self._as_postgres(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        with open(self.datadir / "postgresql.conf", "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockets}'\nfsync = on\n"
                "shared_buffers = 32MB\nmax_connections = 50\n"
            )

    def start(self) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.log), "-w", "start"
        )
        wait_until(lambda: port_open(self.port), timeout=30, what="private PostgreSQL up")

    def stop(self, mode: str = "fast") -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False
        )

    def running(self) -> bool:
        result = self._as_postgres(
            str(PG_BIN / "pg_ctl"), "-D", str(self.datadir), "status", check=False
        )
        return result.returncode == 0


# --- sites -------------------------------------------------------------------------------------


_DROP_ENV = (
    "GALENIC_AUDIT_CHECKPOINT_DIR",
    "GALENIC_AUDIT_KEY_FILE",
    "GALENIC_TEST_DATA_DIR",
    "GALENIC_DATA_DIR",
    "GALENIC_DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
)


@dataclass
class Site:
    """One Galenic installation: a data directory and a database URL."""

    data_dir: Path
    database_url: str
    pg: PgServer | None = None
    pg_name: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def vendor(self) -> str:
        return "postgresql" if self.pg is not None else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        from galenic.env import parse_database_url

        return Path(parse_database_url("database", self.database_url).name)

    @property
    def checkpoint_dir(self) -> Path:
        return self.data_dir / "checkpoints"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
        env.update(
            {
                "GALENIC_DATA_DIR": str(self.data_dir),
                "GALENIC_DATABASE_URL": self.database_url,
                "DJANGO_SETTINGS_MODULE": "galenic.settings",
                "GALENIC_ARGON2_MEMORY_KIB": "1024",
                "GALENIC_ARGON2_TIME_COST": "1",
                "GALENIC_ARGON2_PARALLELISM": "1",
                "GALENIC_LOG_LEVEL": "WARNING",
                "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path]),
            }
        )
        env.update(self.extra_env)
        env.update(extra)
        return env

    def galenic(
        self, *args: str, check: bool = True, timeout: float = 180, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """Run one ``galenic`` command against this site."""
        [result] = self.galenic_many([list(args)], check=check, timeout=timeout, env=env)
        return result

    def galenic_many(
        self,
        commands: list[list[str]],
        *,
        check: bool = True,
        timeout: float = 300,
        env: dict[str, str] | None = None,
    ) -> list[subprocess.CompletedProcess[str]]:
        """Run ``galenic`` commands in turn, in one process (one Django start-up for all)."""
        payload = json.dumps([{"args": args, "env": env or {}} for args in commands])
        run = subprocess.run(
            [sys.executable, str(HERE / "rel_cli.py"), payload],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.data_dir,
        )
        if run.returncode != 0:
            raise AssertionError(f"rel_cli.py failed:\n{run.stdout}\n{run.stderr}")
        results = [
            subprocess.CompletedProcess(["galenic", *args], r["code"], r["stdout"], r["stderr"])
            for args, r in zip(commands, json.loads(run.stdout), strict=True)
        ]
        for result in results:
            if check and result.returncode != 0:
                raise AssertionError(
                    f"{' '.join(result.args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
                )
        return results

    def python(self, script: Path, *args: str, timeout: float = 300) -> str:
        result = subprocess.run(
            [sys.executable, str(script), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.data_dir,
        )
        if result.returncode != 0:
            raise AssertionError(f"{script.name} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # Plain SQL, without Django in this process (the test's own Django points elsewhere).
    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.pg is not None:
            with self.pg.connect(self.pg_name) as conn:
                return list(conn.execute(sql.replace("?", "%s"), params).fetchall())  # type: ignore[arg-type]
        conn = sqlite3.connect(self.sqlite_path, timeout=30)
        try:
            return list(conn.execute(sql, params).fetchall())
        finally:
            conn.close()

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def entries_of(self, number: str) -> int:
        return int(
            self.scalar(
                "SELECT COUNT(*) FROM execution_entry e JOIN execution_batch b "
                "ON b.id = e.batch_id WHERE b.number = ?",
                (number,),
            )
        )

    def rel_batches(self) -> list[str]:
        """The started batches of MBR-REL the seed issued, in order."""
        rows = self.query(
            "SELECT number FROM execution_batch WHERE number LIKE ? ORDER BY number", ("REL-%",)
        )
        return [r[0] for r in rows]

    def audit_verify(self) -> subprocess.CompletedProcess[str]:
        return self.galenic("audit", "verify", check=False)

    def assert_verifies(self) -> None:
        """``galenic audit verify`` and ``galenic signatures verify`` both pass."""
        audit, signatures = self.galenic_many(
            [["audit", "verify"], ["signatures", "verify"]], check=False
        )
        assert audit.returncode == 0, f"audit verify failed:\n{audit.stdout}\n{audit.stderr}"
        assert audit.stdout.startswith("OK"), audit.stdout
        assert signatures.returncode == 0, (
            f"signatures verify failed:\n{signatures.stdout}\n{signatures.stderr}"
        )
        if self.vendor == "sqlite":
            assert self.scalar("PRAGMA integrity_check") == "ok"

    def drop(self) -> None:
        if self.pg is not None and self.pg_name:
            with contextlib.suppress(Exception):
                self.pg.drop_database(self.pg_name)


SEED = HERE / "rel_seed.py"


def _drop_leftovers(pg: PgServer, prefix: str) -> None:
    """Databases an interrupted earlier run of this checkout left on the shared server."""
    with pg.connect() as conn:
        names = [
            str(r[0])
            for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"]
            ).fetchall()
        ]
    for name in names:
        pid = name[len(prefix) :].split("_")[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            pg.drop_database(name)


class SiteTemplate:
    """A seeded site made once per test run and cloned per test (a file copy on SQLite,
    CREATE DATABASE ... TEMPLATE on PostgreSQL)."""

    def __init__(self, root: Path, pg: PgServer | None, batches: int) -> None:
        self.root = root
        self.pg = pg
        self.batches = batches
        self.counter = 0
        prefix = f"galenic_rel_{checkout_suffix()}_"
        self.name = f"{prefix}{os.getpid()}"
        data = root / "template"
        data.mkdir(parents=True, exist_ok=True)
        if pg is not None:
            _drop_leftovers(pg, prefix)
            pg.drop_database(self.name)
            pg.execute(f'CREATE DATABASE "{self.name}"')
            self.site = Site(data, pg.url(self.name), pg=pg, pg_name=self.name)
        else:
            self.site = Site(data, f"sqlite:///{data / 'galenic.sqlite3'}")
        self.site.python(SEED, str(batches))
        self.site.galenic("manage", "collectstatic", "--noinput", "-v0")
        if pg is None:
            # One self-contained file (no -wal beside it) that can be copied as is.
            conn = sqlite3.connect(self.site.sqlite_path)
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()

    def clone(self, target: Path) -> Site:
        self.counter += 1
        shutil.copytree(self.site.data_dir, target, symlinks=True)
        if self.pg is None:
            for suffix in ("-wal", "-shm"):
                (target / f"galenic.sqlite3{suffix}").unlink(missing_ok=True)
            return Site(target, f"sqlite:///{target / 'galenic.sqlite3'}")
        name = f"{self.name}_{self.counter}"
        self.pg.drop_database(name)
        self.pg.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
        return Site(target, self.pg.url(name), pg=self.pg, pg_name=name)

    def drop(self) -> None:
        self.site.drop()


# --- app processes -----------------------------------------------------------------------------


class AppServer:
    """gunicorn serving the site, in a process group of its own so SIGKILL takes every worker."""

    started: set[AppServer] = set()  # for the suite's last-resort clean-up (conftest)

    def __init__(self, site: Site, *, workers: int = 2, threads: int = 2, **env: str) -> None:
        self.site = site
        self.workers = workers
        self.threads = threads
        self.env = env
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = site.data_dir / f"gunicorn-{self.port}.log"
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        self.starts += 1
        AppServer.started.add(self)
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "galenic.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--threads",
                str(self.threads),
                "--preload",
                "--graceful-timeout",
                "5",
                "--timeout",
                "60",
            ],
            env=self.site.env(**self.env),
            cwd=self.site.data_dir,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn exited at start:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer within {timeout} s")

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once: no cleanup code runs anywhere."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        """SIGTERM (gunicorn's graceful stop), then SIGKILL to whatever of the group is left."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(20)
        self.kill()

    def __enter__(self) -> AppServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


# --- an HTTP client that speaks to the app like a browser or a script --------------------------


class ConnectionLost(Exception):
    """No answer: the request may or may not have been carried out."""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def data(self) -> Any:
        return json.loads(self.body or b"null")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Client:
    """One person's session against a server: log in through the login form, then JSON calls
    with the CSRF token, optionally with an Idempotency-Key."""

    def __init__(self, base: str, timeout: float = 15) -> None:
        self.base = base
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def _csrf(self) -> str:
        for cookie in self.jar:
            if cookie.name == "csrftoken":
                return cookie.value or ""
        return ""

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        req = urllib.request.Request(self.base + path, data=body, method=method)  # noqa: S310
        for name, value in (headers or {}).items():
            req.add_header(name, value)
        try:
            with self.opener.open(req, timeout=self.timeout) as answer:
                return Answer(answer.status, answer.read(), dict(answer.headers.items()))
        except urllib.error.HTTPError as err:
            return Answer(err.code, err.read(), dict(err.headers.items()))
        except (OSError, http.client.HTTPException) as exc:
            raise ConnectionLost(f"{method} {path}: {exc!r}") from exc

    def get(self, path: str, **headers: str) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_json(self, path: str, data: Any, *, key: str | None = None) -> Answer:
        headers = {"Content-Type": "application/json", "X-CSRFToken": self._csrf()}
        if key:
            headers["Idempotency-Key"] = key
        return self.request("POST", path, body=json.dumps(data).encode(), headers=headers)

    def post_form(self, path: str, data: dict[str, str], **headers: str) -> Answer:
        fields = {"csrfmiddlewaretoken": self._csrf(), **data}
        return self.request(
            "POST",
            path,
            body=urllib.parse.urlencode(fields).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": self.base + path,
                **headers,
            },
        )

    def login(self, user: str, password: str = DEMO_PASSWORD) -> None:
        self.get("/accounts/login/")
        answer = self.post_form("/accounts/login/", {"username": user, "password": password})
        assert answer.status == 302, f"login of {user} failed: {answer.status} {answer.text[:500]}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def new_key() -> str:
    return uuid.uuid4().hex


@contextlib.contextmanager
def background(target: Callable[[], None]) -> Iterator[None]:
    import threading

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    try:
        yield
    finally:
        thread.join(120)


# --- the shop floor workload -------------------------------------------------------------------

REL_STEPS: list[tuple[str, list[tuple[str, str, str]]]] = [
    ("s1", [("a", "21.0", "°C"), ("b", "21.5", "°C"), ("c", "22.0", "°C")]),
    ("s2", [("a", "12", "kN"), ("b", "12.5", "kN"), ("c", "11.5", "kN")]),
    ("s3", [("a", "200", "mg"), ("b", "201", "mg"), ("c", "199", "mg")]),
    ("s4", [("good_tablets", "990", "tablet"), ("rejected", "4", "tablet")]),
]


@dataclass
class Op:
    """One thing a person asks the server to do, with its own idempotency key."""

    batch: str
    step: str
    kind: str  # "record" | "perform"
    key: str = ""  # parameter key for "record"
    value: str = ""
    unit: str = ""
    idem: str = field(default_factory=new_key)
    attempts: int = 0
    lost: int = 0  # attempts that got no answer
    in_doubt: int = 0  # answers saying it may or may not have been saved
    outcome: str = ""  # "acked" | "done" (done, but the answer was lost) | "refused"
    answer: Any = None

    @property
    def path(self) -> str:
        tail = "values" if self.kind == "record" else "perform"
        return f"/api/v1/batches/{self.batch}/steps/{self.step}/{tail}"

    def payload(self, user: str) -> dict[str, Any]:
        if self.kind == "record":
            return {"key": self.key, "value": self.value, "unit": self.unit}
        return {"user_id": user, "password": DEMO_PASSWORD}


def batch_ops(batch: str) -> list[Op]:
    ops: list[Op] = []
    for step, params in REL_STEPS:
        ops += [Op(batch, step, "record", key, value, unit) for key, value, unit in params]
        ops.append(Op(batch, step, "perform"))
    return ops


class Operator:
    """A person working through batches of MBR-REL over HTTP, as fast as the server answers.

    A request without an answer (the server died) is retried with the same Idempotency-Key once
    the server answers again. ``transient`` statuses (e.g. 503 while the database restarts) are
    noted and retried too. Every answer is kept for the checks."""

    def __init__(
        self,
        server: AppServer,
        user: str,
        batches: list[str],
        *,
        transient: tuple[int, ...] = (),
        use_keys: bool = True,
        timeout: float = 15,
    ) -> None:
        self.server = server
        self.user = user
        self.ops = [op for b in batches for op in batch_ops(b)]
        self.transient = transient
        self.use_keys = use_keys
        self.done = 0  # ops finished
        self.stop = False
        self.error: BaseException | None = None
        self.transient_answers: list[Answer] = []
        self.client: Client | None = None
        self.timeout = timeout

    def _client(self) -> Client:
        if self.client is None:
            client = Client(self.server.base, timeout=self.timeout)
            client.login(self.user)
            self.client = client
        return self.client

    def _settle(self, op: Op, answer: Answer) -> None:
        op.answer = answer
        if answer.ok:
            op.outcome = "acked"
            return
        data = (
            answer.data
            if answer.headers.get("Content-Type", "").startswith("application/json")
            else {}
        )
        message = str(data.get("message", "")) if isinstance(data, dict) else ""
        replayed = data.get("code") == "replayed"
        # With keys, a lost attempt that was carried out is refused as a replay; without, the
        # record's state refuses it ("already recorded", "already complete").
        already = "already recorded" in message or "already complete" in message
        if (
            answer.status == 409
            and (op.lost or op.in_doubt)
            and (replayed or (already and not self.use_keys))
        ):
            op.outcome = "done"  # the lost attempt had been carried out
            return
        raise AssertionError(
            f"{self.user}: {op.kind} {op.batch}/{op.step}/{op.key} answered {answer.status}: "
            f"{answer.text[:500]}"
        )

    def run(self) -> None:
        try:
            for op in self.ops:
                while not op.outcome:
                    if self.stop:
                        return
                    op.attempts += 1
                    try:
                        client = self._client()
                        answer = client.post_json(
                            op.path, op.payload(self.user), key=op.idem if self.use_keys else None
                        )
                    except ConnectionLost:
                        op.lost += 1  # the session (a database row) outlives the process
                        time.sleep(0.1)
                        continue
                    if answer.status in self.transient:
                        self.transient_answers.append(answer)
                        if "may or may not" in answer.text or "had saved its work" in answer.text:
                            op.in_doubt += 1
                        time.sleep(0.1)
                        continue
                    self._settle(op, answer)
                self.done += 1
        except BaseException as exc:
            self.error = exc

    @property
    def finished(self) -> list[Op]:
        return [op for op in self.ops if op.outcome]


@contextlib.contextmanager
def at_work(server: AppServer, people: list[Operator]) -> Iterator[None]:
    """The operators work, each in a thread of their own, while the block injects its fault;
    then they stop, and so does the server (whatever the block raised)."""
    import threading

    threads = [threading.Thread(target=p.run, daemon=True) for p in people]
    for t in threads:
        t.start()
    try:
        yield
    finally:
        for p in people:
            p.stop = True
        for t in threads:
            t.join(60)
        server.stop()


def check_after_work(site: Site, people: list[Operator]) -> list[Op]:
    """Nobody stopped on an error, nothing is half-written and every acknowledged operation is
    kept. Returns everyone's operations."""
    for p in people:
        assert p.error is None, p.error
    ops = [op for p in people for op in p.ops]
    check_nothing_half_written(site)
    check_acknowledged_kept(site, ops)
    return ops


def work_done(people: list[Operator]) -> int:
    """Operations finished so far; raises at once the error that stopped someone."""
    for person in people:
        if person.error is not None:
            raise AssertionError(f"{person.user} stopped: {person.error!r}") from person.error
    return sum(p.done for p in people)


# Every way an entry comes to be, each with its own audit event (execution/services.py).
ENTRY_ACTIONS = "('execution.entry.record', 'execution.entry.correct', 'execution.entry.calculate')"


def check_nothing_half_written(site: Site) -> None:
    """No entry without its audit event, no signature without its record and audit event, no
    performed step without its signature, no audit event naming an entry that is not there."""
    orphans = site.query(
        "SELECT e.id FROM execution_entry e WHERE NOT EXISTS (SELECT 1 FROM audit_auditevent a "
        f"WHERE a.action IN {ENTRY_ACTIONS} AND a.object_type = 'execution.entry' "
        "AND a.object_id = CAST(e.id AS TEXT))"
    )
    assert not orphans, f"entries without their audit event: {orphans}"
    ghosts = site.query(
        f"SELECT a.seq, a.object_id FROM audit_auditevent a WHERE a.action IN {ENTRY_ACTIONS} "
        "AND a.object_type = 'execution.entry' AND NOT EXISTS (SELECT 1 FROM execution_entry e "
        "WHERE CAST(e.id AS TEXT) = a.object_id)"
    )
    assert not ghosts, f"audit events of entries that do not exist: {ghosts}"
    unsigned = site.query(
        "SELECT s.object_type, s.object_id, COUNT(*) FROM signatures_signature s "
        "GROUP BY s.object_type, s.object_id HAVING COUNT(*) <> (SELECT COUNT(*) FROM "
        "audit_auditevent a WHERE a.action = 'signatures.sign' "
        "AND a.object_type = s.object_type AND a.object_id = s.object_id)"
    )
    assert not unsigned, f"signatures without their audit event: {unsigned}"
    lost_records = site.query(
        "SELECT s.id FROM signatures_signature s WHERE s.object_type = 'execution.stepexecution' "
        "AND NOT EXISTS (SELECT 1 FROM execution_stepexecution x WHERE CAST(x.id AS TEXT) = s.object_id)"
    )
    assert not lost_records, f"signatures of step executions that do not exist: {lost_records}"
    performed_unsigned = site.query(
        "SELECT x.id, x.step_key, x.status FROM execution_stepexecution x "
        "WHERE x.status IN ('performed', 'completed') AND NOT EXISTS (SELECT 1 FROM "
        "signatures_signature s WHERE s.object_type = 'execution.stepexecution' "
        "AND s.object_id = CAST(x.id AS TEXT) AND s.meaning = 'performed')"
    )
    assert not performed_unsigned, f"performed steps without a signature: {performed_unsigned}"
    twice = site.query(
        "SELECT step_id, key, COUNT(*) FROM execution_entry WHERE supersedes_id IS NULL "
        "GROUP BY step_id, key HAVING COUNT(*) > 1"
    )
    assert not twice, f"a value stored twice: {twice}"


def check_acknowledged_kept(site: Site, ops: list[Op]) -> None:
    """Every entry and signature the client was told about is there, as it was told."""
    for op in ops:
        if op.outcome == "acked" and op.kind == "record":
            [entry] = op.answer.data["entries"]
            rows = site.query(
                "SELECT e.key, e.raw_value, b.number, x.step_key FROM execution_entry e "
                "JOIN execution_batch b ON b.id = e.batch_id "
                "JOIN execution_stepexecution x ON x.id = e.step_id WHERE e.id = ?",
                (entry["id"],),
            )
            assert rows == [(op.key, op.value, op.batch, op.step)], (op, rows)
        if op.outcome in ("acked", "done"):
            if op.kind == "record":
                count = site.scalar(
                    "SELECT COUNT(*) FROM execution_entry e JOIN execution_batch b ON "
                    "b.id = e.batch_id JOIN execution_stepexecution x ON x.id = e.step_id "
                    "WHERE b.number = ? AND x.step_key = ? AND e.key = ?",
                    (op.batch, op.step, op.key),
                )
                assert count == 1, f"{op.batch}/{op.step}/{op.key} stored {count} times"
            else:
                signed = site.scalar(
                    "SELECT COUNT(*) FROM signatures_signature s JOIN execution_stepexecution x "
                    "ON s.object_type = 'execution.stepexecution' AND s.object_id = "
                    "CAST(x.id AS TEXT) JOIN execution_batch b ON b.id = x.batch_id "
                    "WHERE b.number = ? AND x.step_key = ? AND s.meaning = 'performed'",
                    (op.batch, op.step),
                )
                assert signed == 1, f"{op.batch}/{op.step} performed-signed {signed} times"


def clone_into_private_postgres(
    template: SiteTemplate, private: PrivatePostgres, target: Path
) -> Site:
    """The seeded template site, moved onto a private cluster with pg_dump | pg_restore."""
    assert template.pg is not None
    shutil.copytree(template.site.data_dir, target, symlinks=True)
    dump = target / "template.pgdump"
    subprocess.run(
        [
            str(PG_BIN / "pg_dump"),
            "-Fc",
            "-f",
            str(dump),
            "-d",
            template.site.database_url.replace("postgres://", "postgresql://"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    private.server.execute('CREATE DATABASE "galenic"')
    subprocess.run(
        [
            str(PG_BIN / "pg_restore"),
            "--no-owner",
            "-d",
            private.server.url("galenic").replace("postgres://", "postgresql://"),
            str(dump),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return Site(target, private.server.url("galenic"), pg=private.server, pg_name="galenic")


class SmallDisk:
    """A size-limited tmpfs mounted for one test (needs mount rights: root in the sandbox)."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        self.size = size
        self.mounted = False
        self.filler = path / "filler"

    def mount(self) -> str:
        """'' on success, else why not."""
        self.path.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.path)],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            return (result.stderr or result.stdout).strip() or f"mount exited {result.returncode}"
        self.mounted = True
        return ""

    def fill(self) -> None:
        """Take every free byte."""
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
                with contextlib.suppress(OSError):
                    while True:
                        os.write(fd, b"\0" * chunk)
        finally:
            os.close(fd)

    def free_space(self) -> None:
        self.filler.unlink(missing_ok=True)

    def unmount(self) -> None:
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounted = False


class PrivateMosquitto:
    """A Mosquitto of our own on a free port, with persistence, that a test may restart (the
    shared broker on 1883 is not ours). As tests/gateway's, for processes outside pytest."""

    def __init__(self, workdir: Path) -> None:
        self.binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"user root\npersistence_location {workdir}/\nmax_queued_messages 100000\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def available(self) -> str:
        return "" if Path(self.binary).exists() else f"no mosquitto binary at {self.binary}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), timeout=10, what="private mosquitto up")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # saves its persistence file
            self.proc.wait(10)
        self.proc = None


class GatewayProcess:
    """``galenic gateway run`` as the shop floor runs it (no Django), killable with SIGKILL."""

    def __init__(self, config: Path, env: dict[str, str]) -> None:
        self.config = config
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.with_suffix(".log")

    def start(self) -> None:
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "galenic", "gateway", "run", "--config", str(self.config)],
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def kill(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(15)
        self.kill()
