"""Bounded fetches from the package registries: one pinned wheel with pip, one .deb with apt.

Offline, each fails within FETCH_TIMEOUT seconds: pip gets a short socket timeout, one retry and
a hard time limit; apt gets short network timeouts, one retry, and is stopped once its download
has not grown for FETCH_TIMEOUT seconds. No TensorFlow import.
"""

import hashlib
import re
import subprocess
import sys
import time
from pathlib import Path

FETCH_TIMEOUT = 30  # seconds: offline, every fetch fails within this
PIP_SOCKET_TIMEOUT = 10  # seconds pip waits on a silent connection; 2 attempts fit in 30 s
PIP_RETRIES = 1
APT_NETWORK_TIMEOUT = 5  # seconds; apt waits about twice this per attempt
APT_RETRIES = 1


def find_links_fix(requirement, rerun, wheel=None, cache=None):
    """The commands that fetch `requirement` elsewhere and use it here without the registry."""
    copy = f"then copy DIR/{wheel} into {cache}, or run" if wheel else "copy DIR here, then run"
    return (f"Where the registry is reachable run `python -m pip download --no-deps "
            f"--only-binary=:all: -d DIR {requirement}`, {copy} "
            f"`PIP_FIND_LINKS=DIR PIP_NO_INDEX=1 {rerun}`.")


def pip_download(requirement, dest, *, fix, timeout=FETCH_TIMEOUT):
    """`pip download --no-deps` one pinned wheel into `dest`; returns the wheel's path.

    Raises ConnectionError, one line ending with `fix`, if pip fails or takes over `timeout` s.
    pip honours PIP_INDEX_URL, PIP_FIND_LINKS and PIP_NO_INDEX from the environment.
    """
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "--timeout", str(PIP_SOCKET_TIMEOUT),
               "--retries", str(PIP_RETRIES), "-q", "-d", str(dest), requirement]
    fix = f" {fix}" if fix else ""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ConnectionError(f"pip could not fetch {requirement} within {timeout} s.{fix}") from None
    name = _normalise(re.split(r"[=<>!~\[;\s]", requirement, maxsplit=1)[0])
    wheels = [path for path in sorted(Path(dest).glob("*.whl"))
              if _normalise(path.name.split("-")[0]) == name]
    if done.returncode != 0 or not wheels:
        raise ConnectionError(f"pip could not fetch {requirement}: {_pip_reason(done)}.{fix}")
    return wheels[0]


def _normalise(name):
    """A project name as the registry compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_reason(done):
    """pip's last error line, prefixed when it could not connect."""
    lines = [line.strip() for line in (done.stderr or "").splitlines() if line.strip()]
    last = lines[-1].removeprefix("ERROR: ") if lines else f"exit status {done.returncode}"
    unreachable = any("Retrying" in line or "NewConnectionError" in line for line in lines)
    return f"the package registry could not be reached ({last})" if unreachable else last


def apt_options():
    """apt-get options that bound each connection attempt and the number of attempts."""
    return ["-o", f"Acquire::http::Timeout={APT_NETWORK_TIMEOUT}",
            "-o", f"Acquire::https::Timeout={APT_NETWORK_TIMEOUT}",
            "-o", f"Acquire::Retries={APT_RETRIES}"]


def run_while_growing(command, cwd, *, timeout, stall=FETCH_TIMEOUT):
    """Run `command` in `cwd`, stopped if the files in `cwd` stop growing for `stall` s.

    For downloads too large for a fixed short limit: a slow download goes on (up to `timeout`
    s in all), a silent one is stopped. Raises subprocess.TimeoutExpired when stopped and
    subprocess.CalledProcessError on a non-zero exit, like `subprocess.run(check=True)`.
    """
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    start = progress = time.monotonic()
    size = 0
    while True:
        try:
            out, err = process.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            now, grown = time.monotonic(), _tree_size(cwd)
            if grown > size:
                size, progress = grown, now
            if now - progress > stall or now - start > timeout:
                process.kill()
                process.communicate()
                raise subprocess.TimeoutExpired(command, round(now - start)) from None
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command, out, err)
    return subprocess.CompletedProcess(command, 0, out, err)


def _tree_size(directory):
    """Total bytes of the files under `directory` (files vanishing meanwhile count 0)."""
    total = 0
    for path in Path(directory).rglob("*"):
        try:
            total += path.stat().st_size if path.is_file() else 0
        except OSError:
            pass
    return total


def sha256_file(path):
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
