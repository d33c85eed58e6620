"""Seeding and TensorFlow op determinism: what makes two runs give the same numbers.

`seed_everything(seed, deterministic=True)` calls `keras.utils.set_random_seed(seed)` (Python,
NumPy and TensorFlow seeds, hence weight initialisation, dropout masks and unseeded shuffles) and
`tf.config.experimental.enable_op_determinism()`.

Deterministic: on the CPU, two runs with the same seed, data, recipe, number of replicas and
software versions give bit-identical weights and metrics (tested). On a GPU the same holds on the
same GPU model with the same driver, CUDA/cuDNN and TensorFlow versions: op determinism makes
TensorFlow choose deterministic cuDNN algorithms and reductions (slower).

Not deterministic, or not comparable bit for bit:
- results across different hardware (CPU vs GPU, different GPU models), across TensorFlow,
  CUDA or cuDNN versions, and across different numbers of replicas (the order of the
  cross-replica sums changes); expect agreement within float tolerance only;
- GPU ops without a deterministic kernel raise `tf.errors.UnimplementedError` instead of running;
  TensorFlow documents that, due to bugs, a few ops may still be nondeterministic without raising;
- a run resumed by BackupAndRestore restores weights and optimizer state, but its data order
  restarts with the new process, so it is not bit-identical to an uninterrupted run;
- NumPy's `default_rng()` without a seed, and anything random outside TensorFlow.
- a tf.data pipeline built before seeding: its shuffle combines its own seed with the global
  seed of that moment (whatever an earlier run in the process set). Seed, then build it;
  `fit` does so for (x, y) arrays.

Cost: with op determinism, a `tf.data.map` holding random ops (augmentation layers) runs serially.
Op determinism cannot be switched off again inside a process.
"""

import keras
import tensorflow as tf


def seed_everything(seed, deterministic=True):
    """Seed Python, NumPy and TensorFlow; with `deterministic`, also enable op determinism."""
    if seed is None:
        return
    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()
