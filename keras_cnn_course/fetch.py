"""Bounded fetches from the package registry: one pinned wheel with pip.

Offline, each fails within FETCH_TIMEOUT seconds: pip gets a short socket timeout, one retry and
a hard time limit. No TensorFlow import.
"""

import re
import subprocess
import sys
from pathlib import Path

FETCH_TIMEOUT = 30  # seconds: offline, every fetch fails within this
PIP_SOCKET_TIMEOUT = 10  # seconds pip waits on a silent connection; 2 attempts fit in 30 s
PIP_RETRIES = 1


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
