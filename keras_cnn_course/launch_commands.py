"""`kcc launch`: run a command as the workers of a MultiWorkerMirroredStrategy cluster.

    kcc launch --workers 2 -- python -m reproductions.nielsen_mnist --quick      # this machine
    kcc launch --hosts node1:12345,node2:12345                      -- ...       # print the plan
    kcc launch --hosts node1:12345,node2:12345 --task-index 0       -- ...       # on node1

Kept outside `launch.py` only as the registration; neither imports TensorFlow.
"""

import argparse
import shlex
import sys

from keras_cnn_course.arguments import non_negative_int, positive_float, positive_int


def register(subparsers):
    parser = subparsers.add_parser(
        "launch", help="start a command as N tf.distribute workers (TF_CONFIG for each)",
        description="Start COMMAND as the workers of a MultiWorkerMirroredStrategy cluster: "
        "N processes on 127.0.0.1 (--workers), or one worker of a cluster of hosts (--hosts with "
        "--task-index, run on every host). Output is prefixed with [workerN]; all workers are "
        "stopped on failure, timeout or Ctrl-C; the exit code is the worst worker's.")
    parser.add_argument("--workers", type=positive_int, metavar="N",
                        help="number of workers on this machine (default 2, or the --hosts count)")
    parser.add_argument("--hosts", metavar="H:P,H:P",
                        help="the cluster's workers as HOST:PORT, the same list on every host; "
                        "without --task-index, print the command to run on each host")
    parser.add_argument("--task-index", type=non_negative_int, metavar="I",
                        help="with --hosts: run worker I here (the host named I-th in --hosts)")
    parser.add_argument("--timeout", type=positive_float, metavar="SECONDS",
                        help="stop all workers after this long (exit code 124); default: no limit")
    parser.add_argument("worker_args", nargs=argparse.REMAINDER, metavar="-- COMMAND",
                        help="after `--`: a command, `python ...`, or a module such as "
                        "reproductions.nielsen_mnist")
    parser.set_defaults(func=run)


def run(args):
    from keras_cnn_course import launch

    command = launch.worker_command(args.worker_args)
    if args.hosts is None:
        if args.task_index is not None:
            raise ValueError("--task-index needs --hosts (the whole cluster, the same list on "
                             "every host)")
        hosts = launch.local_hosts(2 if args.workers is None else args.workers)
        print(f"kcc launch: {len(hosts)} worker(s) on {', '.join(hosts)}", file=sys.stderr)
        return launch.launch(command, hosts, timeout=args.timeout)
    hosts = launch.parse_hosts(args.hosts)
    if args.workers is not None and args.workers != len(hosts):
        raise ValueError(f"--workers {args.workers} but --hosts lists {len(hosts)} workers; "
                         "drop --workers")
    if args.task_index is None:
        print_plan(hosts, args)
        return 0
    launch.tf_config(hosts, args.task_index)  # checks the index
    return launch.launch(command, hosts, indices=[args.task_index], timeout=args.timeout)


def print_plan(hosts, args):
    """What to run on each host: the same command with its --task-index (and its TF_CONFIG)."""
    from keras_cnn_course import launch

    options = ["--hosts", ",".join(hosts)]
    if args.timeout is not None:
        options += ["--timeout", f"{args.timeout:g}"]
    command = args.worker_args[1:] if args.worker_args[:1] == ["--"] else args.worker_args
    for index, host in enumerate(hosts):
        chief = ", the chief" if index == 0 else ""
        print(f"# on {host.rpartition(':')[0]} (worker {index}{chief})")
        print(shlex.join(["kcc", "launch", *options, "--task-index", str(index), "--",
                          *(command or ["COMMAND"])]))
        config = shlex.quote(launch.tf_config(hosts, index))
        print(f"#   which runs the command with TF_CONFIG={config}")
