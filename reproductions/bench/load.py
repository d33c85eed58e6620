"""How many cores other work took while a benchmark measurement ran (Linux /proc).

The 1-minute load average cannot tell the benchmark's own threads from other work: after a
minute of timing on both cores it reads about 2 by itself, and TensorFlow's extra runnable
threads push it higher. Here the CPU time of the whole machine (/proc/stat, steal included: a
shared VM's vCPU given to other guests) less the CPU time of the benchmark's own processes
(/proc/PID/stat), over the measurement's wall time, is what other work took, in cores.
"""

import os
import time
from pathlib import Path

BUSY_CORES = 0.2  # other work above this (a tenth of a 2-core machine) makes a verdict invalid


def machine_ticks():
    """Busy CPU ticks of all cores: user, nice, system, irq, softirq and steal."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
    return user + nice + system + irq + softirq + steal


def process_ticks(pid):
    """CPU ticks (user + system, all threads) of one process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of proc(5)


class OtherWork:
    """`with OtherWork([child_pid]) as other: ...`, then `other.cores` (None without /proc)."""

    def __init__(self, pids):
        self.pids = [os.getpid(), *pids]
        self.cores = None

    def _sample(self):
        try:
            return (time.perf_counter(), machine_ticks(),
                    sum(process_ticks(pid) for pid in self.pids))
        except (OSError, ValueError, IndexError):
            return None

    def __enter__(self):
        self.start = self._sample()
        return self

    def __exit__(self, *exc):
        end = self._sample()
        if self.start and end:
            seconds = end[0] - self.start[0]
            others = (end[1] - self.start[1]) - (end[2] - self.start[2])
            self.cores = max(others, 0) / os.sysconf("SC_CLK_TCK") / seconds
        return False
