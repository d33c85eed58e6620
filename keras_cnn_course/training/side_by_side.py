"""Independent trainings side by side, in worker processes of one TensorFlow thread each.

On a 2-core CPU, small networks keep both cores busier as two one-thread processes than as one
process with two threads, whose work often lands on one busy core. Measured on this machine:
EfficientNet-Lite0 at 64x64, batch 32, trained at 1.9-3.6 steps/s in one process with two
threads, ~4.2 steps/s in all as two one-thread processes; Python-bound work (tracing a
model's training step) runs in parallel too. Each worker is a fresh (spawned) interpreter, so
`function` and its arguments must be importable and picklable.

    for result in side_by_side(train_one, [(a,), (b,), (c,)], workers=2):
        ...  # in the order they finish
"""

import multiprocessing
import signal


def one_thread():
    """Run in each worker before TensorFlow starts: one intra-op and one inter-op thread; a
    Ctrl-C reaching the worker is left to the parent, which terminates the workers."""
    import tensorflow as tf

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)


def side_by_side(function, arguments, workers):
    """Yield `function(*args)` for each tuple in `arguments` as it finishes: in this process
    when `workers` is 1, otherwise `workers` at a time in one-thread worker processes."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if workers == 1:
        for args in arguments:
            yield function(*args)
        return
    context = multiprocessing.get_context("spawn")  # a fresh TensorFlow in every worker
    # Leaving the block in any way, an interrupt included, terminates the workers at once.
    with context.Pool(workers, initializer=one_thread) as pool:
        yield from pool.imap_unordered(_call, [(function, args) for args in arguments])


def _call(item):
    function, args = item
    return function(*args)
