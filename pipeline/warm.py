"""A warm process for the stages: a stage command that the Makefile runs forks it instead
of starting Python and importing its modules again (a third of a second or more a stage,
most of what the script and review stages take after an edit).

With PIPELINE_WARM=1 (the Makefile's default), a stage command first looks for a warm
process of this very code (the socket is named by a hash of the interpreter and of every
module's size and time), hands it its arguments, working folder, environment, umask and
its own stdin, stdout and stderr, and waits: the warm process forks, the fork runs the
command as the process would have, and its exit status comes back as the command's.
Ctrl-C, SIGTERM and SIGHUP are passed on to the fork; a client that dies takes its fork
with it. When there is none, the command runs in its own process as ever, and the stages
that end a build start one in the background (the first to come; a second leaves before
importing anything), which imports the stages, listens, stops the warm processes of other
code, and exits after IDLE seconds without work. Nothing is
kept in the warm process between commands: each fork starts from the same imported
modules.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

ENV = "PIPELINE_WARM"
DIR_ENV = "PIPELINE_WARM_DIR"  # where the sockets are (tests); a folder under /tmp if unset
FORK_ENV = "PIPELINE_WARM_FORK"  # set in a fork running a command: it never asks again
SERVE = "--serve-warm"  # `python -m pipeline --serve-warm <socket>` is the warm process
STAGES = ("script", "narrate", "master", "captions", "slides", "video", "review")
# The stages that end a build start the warm process for the builds after it, so that a
# cold build's busy stages never share the cores with its imports (13% of a cold build's
# time); the video stage's mux leaves a core to them, and they are done by the build's end
STARTERS = ("video", "review")
PRELOAD = (*(f"pipeline.stages.{stage}" for stage in STAGES), "pipeline.cli", "faster_whisper")
# modules whose warm() loads more, fork-safe
WARM_UPS = ("pipeline.speech.voices.hibari", "pipeline.publish.shownotes")
IDLE = 900  # seconds without a command before the warm process exits
START_WAIT = 10.0  # seconds a command waits for the warm process to start it, then runs alone
IDLE_ENV = "PIPELINE_WARM_IDLE"  # another number of seconds for that
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PACKAGE = Path(__file__).resolve().parent


def code_hash() -> str:
    """A hash of the interpreter and of each module's path, size and time: another
    checkout, an edit or an upgrade names another warm process."""
    digest = hashlib.sha256(f"{sys.executable}|{sys.version}".encode())
    for path in sorted(PACKAGE.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def socket_path() -> Path:
    base = os.environ.get(DIR_ENV) or Path(tempfile.gettempdir()) / f"pipeline-warm-{os.getuid()}"
    return Path(base) / f"{code_hash()}.sock"


# -- the client -----------------------------------------------------------------------------

def wanted(argv: list[str]) -> bool:
    """Whether this command should go to a warm process: a stage, with PIPELINE_WARM=1,
    not already run by one."""
    return (os.environ.get(ENV) == "1" and not os.environ.get(FORK_ENV) and bool(argv)
            and argv[0] in STAGES)


def run(argv: list[str]) -> int | None:
    """Run `pipeline <argv>` in a fork of the warm process; its exit status (negative: the
    signal that ended it), or None when there is no warm process (the last stage of a
    build starts one)."""
    path = socket_path()
    if path.parent.exists() and not _ours(path.parent):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:
        conn.close()
        if argv[0] in STARTERS:
            start(path)
        return None
    with conn:
        return _talk(conn, argv)


def _ours(folder: Path) -> bool:
    """Whether the sockets' folder is this user's alone: another's could run our commands
    with our files."""
    stat = folder.stat()
    return stat.st_uid == os.getuid() and not stat.st_mode & 0o077


def _talk(conn: socket.socket, argv: list[str]) -> int | None:
    umask = os.umask(0)
    os.umask(umask)
    ignored = [sig for sig in FORWARDED if signal.getsignal(sig) is signal.SIG_IGN]
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
                          "umask": umask, "ignored": ignored}).encode()
    conn.settimeout(START_WAIT)
    replies = conn.makefile("r", encoding="utf-8")
    try:
        socket.send_fds(conn, [len(request).to_bytes(8, "big") + request], [0, 1, 2])
        started = replies.readline()
    except OSError:  # a timeout too: hanging up kills a fork that began meanwhile
        return None
    if not started.strip():
        return None  # it went before it began: nothing ran
    conn.settimeout(None)
    pid = int(started)
    passed = {sig: signal.signal(sig, lambda s, _f: _forward(pid, s)) for sig in FORWARDED
              if sig not in ignored}
    try:
        status = replies.readline()
    finally:
        for sig, before in passed.items():
            signal.signal(sig, before)
    if not status.strip():
        print("error: the warm process went away while it ran the command", file=sys.stderr)
        return 1
    return int(status)


def _forward(pid: int, sig: int) -> None:
    """To the fork and what it started (its process group), as a terminal would."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def start(path: Path) -> None:
    """Start a warm process for `path` in the background, in a session of its own, with
    nothing of ours open (pipeline/__main__.py runs `serve`)."""
    with contextlib.suppress(OSError):
        subprocess.Popen([sys.executable, "-m", "pipeline", SERVE, str(path)],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)


def finish(code: int) -> None:
    """Leave as the fork left: by its exit status, or by the signal that ended it."""
    if code < 0:
        with contextlib.suppress(OSError, ValueError):
            signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    sys.exit(code)


# -- the warm process -----------------------------------------------------------------------

def preload() -> None:
    """Import the stages and load what forks can share."""
    for module in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    for module in WARM_UPS:
        with contextlib.suppress(Exception):
            importlib.import_module(module).warm()
    # what was loaded stays out of the forks' garbage collections (they walked all of it,
    # the dictionaries above included, and made a cold build 13% slower) and their pages
    gc.collect()
    gc.freeze()


def serve(path: Path, main: Callable[[list[str]], None]) -> None:
    """Import the stages, then serve commands on `path`, each run by `main(argv)` in a
    fork, until IDLE seconds pass without one; a second warm process for the same path
    leaves at once, before importing anything."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _ours(path.parent):
        return
    with _bound(path) as listener:
        if listener is None:
            return
        _stop_others(path)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the handlers
        listener.settimeout(float(os.environ.get(IDLE_ENV) or IDLE))
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return
            if os.fork() == 0:
                listener.close()
                _handle(conn, main)
            conn.close()


@contextlib.contextmanager
def _bound(path: Path) -> Iterator[socket.socket | None]:
    """A listening socket at `path`, the stages imported first; None when a live warm
    process has it or another is starting (it holds the lock meanwhile)."""
    with open(path.with_suffix(".lock"), "a+") as guard:
        try:
            fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
            probe.close()
            yield None
            return
        except OSError:
            probe.close()
        preload()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(16)
        guard.truncate(0)
        guard.write(f"{os.getpid()}\n")  # who serves the socket, for whoever must stop it
        guard.flush()
        fcntl.flock(guard, fcntl.LOCK_UN)
    mine = os.stat(path).st_ino
    try:
        yield listener
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            if os.stat(path).st_ino == mine:
                path.unlink()


def _stop_others(path: Path) -> None:
    """Stop the warm processes of other code in the folder (an edit or an upgrade made
    them stale), and clear what dead ones left: one warm process a user at a time. A pid
    is trusted only while its process is still a warm process for that socket."""
    for guard in path.parent.glob("*.lock"):
        other = guard.with_suffix(".sock")
        if other == path:
            continue
        pid = _serving(guard, other)
        if pid is None:
            for stale in (other, guard):
                stale.unlink(missing_ok=True)
        else:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)


def stop_all(folder: Path) -> int:
    """Stop the warm processes of the sockets in `folder` (a bench's, done with them); how
    many."""
    found = [pid for guard in folder.glob("*.lock")
             if (pid := _serving(guard, guard.with_suffix(".sock"))) is not None]
    for pid in found:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    return len(found)


def _serving(guard: Path, sock: Path) -> int | None:
    """The pid of the warm process for `sock` that its lock file names, if it still runs."""
    try:
        pid = int(guard.read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    return pid if SERVE.encode() in cmdline and str(sock).encode() in cmdline else None


def _handle(conn: socket.socket, main: Callable[[list[str]], None]) -> None:
    """In a fork of the warm process: run one command in a fork of this one, pass its pid
    and then its exit status to the client; kill it if the client goes."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    conn.setblocking(True)
    code = 1
    try:
        request, fds = _receive(conn)
        pid = os.fork()
        if pid == 0:
            conn.close()
            _command(request, fds, main)
        for fd in fds:
            os.close(fd)
        conn.sendall(f"{pid}\n".encode())
        status = _watch(conn, pid)
        conn.sendall(f"{status}\n".encode())
        code = 0
    finally:
        os._exit(code)


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    head, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    size = int.from_bytes(head[:8], "big")
    body = head[8:]
    while len(body) < size:
        more = conn.recv(size - len(body))
        if not more:
            raise ConnectionError("the client went before it said what to run")
        body += more
    return json.loads(body), fds


def _watch(conn: socket.socket, pid: int) -> int:
    """The fork's exit status (negative: its signal), waiting for it; if the client hangs
    up first, the fork is killed."""
    ended = os.pidfd_open(pid)
    try:
        while True:
            readable, _, _ = select.select([conn, ended], [], [])
            if ended in readable:
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
            if not conn.recv(1, socket.MSG_PEEK):
                _forward(pid, signal.SIGKILL)
                return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    finally:
        os.close(ended)


def _command(request: dict, fds: list[int], main: Callable[[list[str]], None]) -> None:
    """In the fork that runs the command: become the client's process, then run it."""
    code = 1
    try:
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[FORK_ENV] = "1"
        os.umask(request["umask"])
        for sig in FORWARDED:  # as the client's: a background job ignores SIGINT
            own = signal.default_int_handler if sig == signal.SIGINT else signal.SIG_DFL
            signal.signal(sig, signal.SIG_IGN if sig in request["ignored"] else own)
        os.setpgid(0, 0)
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        sys.argv = ["pipeline", *request["argv"]]
        code = _main(main, request["argv"])
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _main(main: Callable[[list[str]], None], argv: list[str]) -> int:
    """`main(argv)` ended as its own process would end: its exit status, a traceback for
    an error nothing caught, and Ctrl-C as the signal."""
    try:
        main(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:  # noqa: BLE001 - reported as Python reports it, then exit 1
        traceback.print_exc()
        return 1
    return 0
