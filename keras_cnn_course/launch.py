"""Start the workers of a multi-worker run, each with its TF_CONFIG: what `kcc launch` does.

On one machine, `launch(command, local_hosts(2))` starts two copies of `command` on 127.0.0.1
(free ports), each told by TF_CONFIG which worker it is, so that `choose_strategy()` inside them
returns a `MultiWorkerMirroredStrategy` over both. Their output is streamed with a `[workerN]`
prefix. The launcher owns the workers: whatever happens (a worker fails, the time limit passes,
Ctrl-C, SIGTERM) every worker and its children are stopped before `launch` returns.

Exit code: 0 when every worker succeeded; otherwise the worst code of a worker that ended by
itself (a worker killed by signal N counts as 128 + N, as in a shell), else 124 when the time
limit stopped them (as `timeout` does), 130 on Ctrl-C, 143 on SIGTERM. Once a worker has failed,
the others would wait for it forever inside a collective operation, so they get `GRACE_SECONDS`
and are then stopped.

On a cluster, each host runs one worker: `launch(command, hosts, indices=[i])` on host i, with
the same host list everywhere (see docs/distributed.md).
"""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

LOCALHOST = "127.0.0.1"
TIMEOUT_EXIT, INTERRUPT_EXIT, TERMINATE_EXIT = 124, 130, 143
GRACE_SECONDS = 5.0


def free_ports(count):
    """`count` distinct TCP ports free on 127.0.0.1 right now (the OS picks them)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((LOCALHOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def local_hosts(workers):
    """Addresses for `workers` workers on this machine: ["127.0.0.1:PORT", ...]."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"--workers must be a positive integer, got {workers!r}")
    return [f"{LOCALHOST}:{port}" for port in free_ports(workers)]


def parse_hosts(text):
    """"h1:port,h2:port" -> ["h1:port", "h2:port"], checked."""
    hosts = [host.strip() for host in text.split(",") if host.strip()]
    for host in hosts:
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"--hosts entries must be HOST:PORT (e.g. node1:12345), got {host!r}")
    if len(set(hosts)) != len(hosts) or not hosts:
        raise ValueError(f"--hosts must list distinct HOST:PORT entries, got {text!r}")
    return hosts


def tf_config(hosts, index):
    """The TF_CONFIG of worker `index` in a cluster of `hosts` (worker 0 is the chief)."""
    if not 0 <= index < len(hosts):
        raise ValueError(f"--task-index must be in [0, {len(hosts)}), got {index!r}")
    return json.dumps({"cluster": {"worker": list(hosts)},
                       "task": {"type": "worker", "index": index}})


def worker_command(args):
    """The command each worker runs, from what follows `--`.

    A leading `python`/`python3` runs under this interpreter (the one with the package); a
    dotted module name such as `reproductions.nielsen_mnist` becomes `python -m` that module.
    """
    args = list(args[1:] if args and args[0] == "--" else args)
    if not args:
        raise ValueError("no command to launch: put it after `--`, e.g. "
                         "kcc launch --workers 2 -- python -m reproductions.nielsen_mnist --quick")
    if args[0] in ("python", "python3"):
        return [sys.executable, *args[1:]]
    if _looks_like_module(args[0]):
        return [sys.executable, "-m", *args]
    return args


def _looks_like_module(name):
    """A dotted name that is neither a file nor a program: `reproductions.nielsen_mnist`."""
    import shutil

    parts = name.split(".")
    return (len(parts) > 1 and all(part.isidentifier() for part in parts)
            and not os.path.exists(name) and shutil.which(name) is None)


class _Worker:
    """One worker process in its own process group, its output copied line by line."""

    def __init__(self, index, command, env, out, lock):
        self.index, self.stopped = index, False
        self.process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True)
        self.reader = threading.Thread(target=self._copy, args=(out, lock), daemon=True)
        self.reader.start()

    def _copy(self, out, lock):
        prefix = f"[worker{self.index}] "
        for raw in self.process.stdout:
            with lock:
                out.write(prefix + raw.decode(errors="replace").rstrip("\r\n") + "\n")
                out.flush()

    def signal(self, name):
        """Send SIGTERM or SIGKILL to the worker's whole process group (its children too)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if hasattr(os, "killpg"):
                os.killpg(self.process.pid, getattr(signal, name))
            elif self.process.poll() is None:  # no process groups (Windows): the worker only
                self.process.kill()

    def group_alive(self):
        """True while any process of the worker's group exists (SIGKILL is not instantaneous)."""
        if not hasattr(os, "killpg"):
            return False
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def exit_code(self):
        code = self.process.returncode
        return 128 - code if code < 0 else code


def launch(command, hosts, *, indices=None, timeout=None, out=None, env=None):
    """Run worker `i` of `hosts` for every i in `indices` (default: all) here; see module doc.

    Returns the exit code (0 when every worker succeeded).
    """
    indices = range(len(hosts)) if indices is None else indices
    if timeout is not None and timeout <= 0:
        raise ValueError(f"--timeout must be > 0 seconds, got {timeout!r}")
    out, lock = out or sys.stdout, threading.Lock()
    base = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
    deadline = None if timeout is None else time.monotonic() + timeout
    workers, reason = [], None
    # Ctrl-C raises KeyboardInterrupt even when SIGINT was inherited as ignored (a background job)
    interrupt = signal.default_int_handler
    with _handling(signal.SIGTERM, _terminate), _handling(signal.SIGINT, interrupt):
        try:
            for index in indices:
                env = {**base, "TF_CONFIG": tf_config(hosts, index)}
                workers.append(_Worker(index, command, env, out, lock))
            reason = _wait(workers, deadline)
        except KeyboardInterrupt:
            reason = INTERRUPT_EXIT
        except _Terminated:
            reason = TERMINATE_EXIT
        finally:  # a second Ctrl-C must not cut the clean-up short
            ignore = signal.SIG_IGN
            with _handling(signal.SIGINT, ignore), _handling(signal.SIGTERM, ignore):
                _stop(workers)
    own = [worker.exit_code() for worker in workers if not worker.stopped]
    failures = [code for code in own if code != 0]
    if failures:
        return max(failures)
    return reason or 0


def _wait(workers, deadline):
    """Wait until all workers end; returns TIMEOUT_EXIT when the deadline stopped them."""
    failed_at = None
    while [worker for worker in workers if worker.process.poll() is None]:  # polls every one
        now = time.monotonic()
        if deadline is not None and now > deadline:
            print("kcc launch: time limit reached, stopping the workers", file=sys.stderr)
            return TIMEOUT_EXIT
        if failed_at is None and any(worker.process.returncode for worker in workers):
            failed_at = now
        if failed_at is not None and now > failed_at + GRACE_SECONDS:
            return None  # the failure decides the exit code; _stop ends the rest
        time.sleep(0.05)
    return None


def _stop(workers):
    """SIGTERM every running worker's process group, SIGKILL after GRACE_SECONDS; reap all."""
    for worker in workers:
        if worker.process.poll() is None:
            worker.stopped = True
            worker.signal("SIGTERM")
    end = time.monotonic() + GRACE_SECONDS
    for worker in workers:
        with contextlib.suppress(subprocess.TimeoutExpired):
            worker.process.wait(max(0.0, end - time.monotonic()))
    for worker in workers:
        worker.signal("SIGKILL")  # stragglers, and children left behind by finished workers
        worker.process.wait()
    end = time.monotonic() + GRACE_SECONDS
    for worker in workers:
        while worker.group_alive() and time.monotonic() < end:
            time.sleep(0.02)
        worker.reader.join(timeout=max(0.0, end - time.monotonic()))
        worker.process.stdout.close()


class _Terminated(Exception):
    """SIGTERM reached the launcher."""


def _terminate(signum, frame):
    raise _Terminated


@contextlib.contextmanager
def _handling(signum, handler):
    """Use `handler` for `signum` inside the block (only the main thread can set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signum, handler)
    try:
        yield
    finally:
        signal.signal(signum, previous)
