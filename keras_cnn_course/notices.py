"""TensorFlow's start-up notices, kept off the stderr of `kcc` commands.

TF_CPP_MIN_LOG_LEVEL=2 hides what TensorFlow logs through its own logger (the oneDNN notice, the
cpu_feature_guard line), but not the lines its libraries write before absl::InitializeLog (the
full `tensorflow` wheel probing for CUDA on a machine without a GPU). So `kcc` and the studies'
`python -m reproductions.<study>` run in a child process whose stderr is forwarded without those lines: the INFO and WARNING lines
of absl's format (what level 2 hides), absl's own warning about them, and a failed cuInit after
TensorFlow found no CUDA driver. Anything else, a crash included, reaches stderr unchanged.
"""

import importlib
import os
import re
import signal
import subprocess
import sys

FILTERED = "KCC_NOTICES_FILTERED"  # set in the child: its own children run in-process
LOG_LEVEL = "2"  # TF_CPP_MIN_LOG_LEVEL for kcc commands: errors only
# The child: the parent's import path, then the command (main with arguments runs in-process).
CHILD = "import sys; sys.path[:] = {path!r}; from keras_cnn_course.cli import main; " \
        "sys.exit(main(sys.argv[1:]))"

ABSL_WARNING = re.compile(rb"^WARNING: All log messages before absl::InitializeLog\(\) is called")
ABSL_INFO_OR_WARNING = re.compile(rb"^[IW]\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] ")
CPU_FEATURES = re.compile(rb"^To enable the following instructions: .* rebuild TensorFlow with")
NO_DRIVER = re.compile(rb"Could not find cuda drivers on your machine")
CUINIT_FAILED = re.compile(rb"^E\d{4} .*\] failed call to cuInit")
# tf.data graphs written by a newer TensorFlow op registry than the runtime's: harmless, ignored
NODEDEF_ATTRIBUTE = re.compile(rb"^E\d{4} .*\] NodeDef mentions attribute \w+ which is not in "
                               rb"the op definition")
LINE_END = re.compile(rb"(?<=[\r\n])")  # split after each line end, keeping it


class NoticeFilter:
    """Decides, line by line (bytes, newline included), what to forward."""

    def __init__(self):
        self.no_driver = False

    def keep(self, line):
        if NO_DRIVER.search(line):
            self.no_driver = True
        if self.no_driver and CUINIT_FAILED.match(line):
            return False  # no driver, hence no GPU: the failed probe is expected
        return not (ABSL_WARNING.match(line) or ABSL_INFO_OR_WARNING.match(line)
                    or CPU_FEATURES.match(line) or NODEDEF_ATTRIBUTE.match(line))

    def forward(self, source, sink):
        """Copy the byte stream `source` (a file descriptor) to the binary file `sink` without
        the notices; a progress bar's `\r`-ended updates pass as they come."""
        pending = b""
        while chunk := os.read(source, 65536):
            *lines, pending = LINE_END.split(pending + chunk)
            self._write([line for line in lines if self.keep(line)], sink)
        self._write([pending] if pending and self.keep(pending) else [], sink)

    @staticmethod
    def _write(lines, sink):
        if lines:
            sink.write(b"".join(lines))
            sink.flush()


def quiet_environment():
    """TensorFlow's log level for kcc commands, unless the caller chose one."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", LOG_LEVEL)


def run_filtered(argv):
    """Run `kcc ARGV` in a child process with its stderr filtered; its exit code."""
    return run_child([sys.executable, "-c", CHILD.format(path=sys.path), *argv])


def run_module(package, entry):
    """`python -m PACKAGE`, whose `__main__` calls this with `entry` ("module:function" in the
    package): in a filtered child process, or in this one when it is that child already (or a
    worker that `kcc launch` started)."""
    if os.environ.get(FILTERED) == "1":
        module, function = entry.split(":")
        return getattr(importlib.import_module(f"{package}.{module}"), function)()
    return run_child([sys.executable, "-m", package, *sys.argv[1:]])


def run_child(command):
    """Run `command` with its stderr filtered; its exit code (128 + N when killed by signal N).

    The child is in this process's group: Ctrl-C at a terminal and a kill of the group reach it
    directly; an interrupt or SIGTERM sent to this process alone is passed on."""
    quiet_environment()
    child = subprocess.Popen(command, stderr=subprocess.PIPE, env={**os.environ, FILTERED: "1"})

    def pass_on(signum, _frame):
        if signum != signal.SIGINT or not _from_the_terminal():
            child.send_signal(signum)

    signal.signal(signal.SIGINT, pass_on)
    signal.signal(signal.SIGTERM, pass_on)
    NoticeFilter().forward(child.stderr.fileno(), sys.stderr.buffer)
    code = child.wait()
    return 128 - code if code < 0 else code


def _from_the_terminal():
    """True when this process group is the terminal's foreground group, which a Ctrl-C reaches
    as a whole (the child has it already)."""
    try:
        with open("/dev/tty") as terminal:
            return os.tcgetpgrp(terminal.fileno()) == os.getpgrp()
    except OSError:
        return False
