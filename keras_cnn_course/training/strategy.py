"""Where training runs: one device, several replicas on one machine, or several machines.

`choose_strategy` picks the `tf.distribute` strategy:

- `TF_CONFIG` describes a cluster of more than one task -> `MultiWorkerMirroredStrategy`;
- `replicas=N` (N > 1) -> `MirroredStrategy` over N GPUs, or over N logical CPU devices on a
  machine without GPUs (how the multi-replica path is run and tested on a CPU);
- otherwise `MirroredStrategy` over all GPUs when there are several, else the default strategy
  (one CPU or one GPU).

On one replica `fit` trains with Keras' `model.fit`; on several (either strategy) with the custom
loop in `custom_loop.py`, because Keras 3's `fit` fails there.

Batch and learning rate: a recipe's `batch_size` is per replica, so the global batch is
`batch_size * replicas` (`global_batch_size`). The learning rate follows the linear scaling rule
of Goyal et al. 2017, "Accurate, Large Minibatch SGD": a rate stated for one replica is multiplied
by the number of replicas, because the global batch grew by that factor (`scaled_learning_rate`;
rule "none" keeps the rate). Consequence: 2 replicas x batch 4 at rate r trains exactly like
1 replica x batch 8 at rate 2r.
"""

import functools
import json
import os

import tensorflow as tf

LR_SCALING_RULES = ("linear", "none")


TF_CONFIG_FORM = '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}'


def cluster_from_tf_config(tf_config=None):
    """The cluster in TF_CONFIG (a dict of task type -> addresses), or {} when there is none
    (unset, empty, or `{}`).

    Anything else that is not a cluster description is a ValueError naming TF_CONFIG, what it
    holds and the form expected (TF_CONFIG_FORM): a cluster of HOST:PORT lists, and this process's
    task in it.
    """
    text = os.environ.get("TF_CONFIG", "") if tf_config is None else tf_config
    if not text:
        return {}
    try:
        config = json.loads(text) if isinstance(text, str) else text
    except json.JSONDecodeError:
        raise _tf_config_error("is not JSON", text) from None
    if not isinstance(config, dict):
        raise _tf_config_error(f"is a JSON {type(config).__name__}, not an object", text)
    if not config:
        return {}
    cluster, task = config.get("cluster"), config.get("task")
    if not isinstance(cluster, dict) or not cluster:
        raise _tf_config_error('has no "cluster" of task types and their addresses', text)
    for kind, hosts in cluster.items():
        if (not isinstance(hosts, list) or not hosts
                or not all(isinstance(host, str) and _is_host_port(host) for host in hosts)):
            raise _tf_config_error(f'cluster "{kind}" is not a list of "host:port" strings', text)
    if not isinstance(task, dict) or not isinstance(task.get("type"), str) or (
            task["type"] not in cluster):
        raise _tf_config_error(f'has no "task" whose "type" is one of {sorted(cluster)}', text)
    index, count = task.get("index"), len(cluster[task["type"]])
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        raise _tf_config_error(f'has a task "index" of {index!r}, not an integer in '
                               f"[0, {count})", text)
    return cluster


def _is_host_port(text):
    host, colon, port = text.rpartition(":")
    return bool(host and colon and port.isdigit())


def _tf_config_error(problem, text, limit=120):
    """One line: what is wrong with TF_CONFIG, what it holds (shortened), the expected form."""
    shown = text if isinstance(text, str) else json.dumps(text, default=str)
    shown = " ".join(shown.split())
    if len(shown) > limit:
        shown = shown[:limit - 3] + "..."
    return ValueError(f"TF_CONFIG {problem} (received {shown!r}); expected {TF_CONFIG_FORM}, "
                      "or unset it to train in one process")


def configure_cpu_replicas(replicas):
    """Split the CPU into `replicas` logical devices; must run before TensorFlow initialises.

    TensorFlow initialises its devices at the first op; after that the logical device
    configuration is frozen. Calling this again with the same or a smaller number is harmless.
    """
    if int(replicas) != replicas or replicas < 1:
        raise ValueError(f"replicas must be a positive integer, got {replicas!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu) or []
    if len(current) >= replicas:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(replicas)]
        )
    except RuntimeError:
        available = len(tf.config.list_logical_devices("CPU"))
        if available >= replicas:
            return
        raise RuntimeError(
            f"cannot split the CPU into {replicas} replicas: TensorFlow is already initialised "
            f"with {available} CPU device(s). Call choose_strategy(replicas={replicas}) before "
            "any TensorFlow operation runs (for example at the start of the script), or run in a "
            "fresh process."
        ) from None


def choose_strategy(replicas=None, *, tf_config=None):
    """Return the tf.distribute strategy for this machine (see the module docstring).

    Args:
        replicas: None for the automatic choice; an integer to ask for that many replicas on
            this machine (GPUs if present, otherwise logical CPU devices).
        tf_config: TF_CONFIG text to use instead of the environment variable (for tests).
    """
    if replicas is not None and (int(replicas) != replicas or replicas < 1):
        raise ValueError(f"replicas must be None or a positive integer, got {replicas!r}")
    cluster = cluster_from_tf_config(tf_config)
    if sum(len(tasks) for tasks in cluster.values()) > 1:
        if replicas is not None:
            raise ValueError(
                "replicas applies to one machine; with a TF_CONFIG cluster every worker uses its "
                f"local devices. Drop replicas={replicas!r} or unset TF_CONFIG."
            )
        return _multi_worker_strategy()
    gpus = tf.config.list_physical_devices("GPU")
    if replicas is None:
        return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()
    if replicas == 1:
        return tf.distribute.get_strategy()
    if gpus:
        if len(gpus) < replicas:
            raise ValueError(f"replicas={replicas} but this machine has {len(gpus)} GPU(s)")
        return tf.distribute.MirroredStrategy([f"/gpu:{i}" for i in range(replicas)])
    configure_cpu_replicas(replicas)
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(replicas)])


@functools.cache
def _multi_worker_strategy():
    """One per process: the cluster's collectives are set up once, at the first call."""
    return tf.distribute.MultiWorkerMirroredStrategy()


def global_batch_size(per_replica_batch, strategy):
    """The batch one optimizer step sees: per-replica batch x number of replicas."""
    return int(per_replica_batch) * strategy.num_replicas_in_sync


def scaled_learning_rate(learning_rate, replicas, rule="linear"):
    """The learning rate for `replicas` replicas, given the rate for one (linear rule or none)."""
    if rule not in LR_SCALING_RULES:
        raise ValueError(f"lr_scaling must be one of {LR_SCALING_RULES}, got {rule!r}")
    return learning_rate * replicas if rule == "linear" else learning_rate


def is_multi_worker(strategy):
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy):
    """True on the worker that writes logs and checkpoints (always true on one machine)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if not is_multi_worker(strategy) or resolver is None or resolver.task_type is None:
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    if resolver.task_type == "chief":
        return True
    return not has_chief and resolver.task_type == "worker" and resolver.task_id == 0


def worker_name(strategy):
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return "worker0"
    return f"{resolver.task_type}{resolver.task_id}"
