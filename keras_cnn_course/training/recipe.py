"""A training recipe as data: what a reproduction declares, and `fit` carries out.

Defaults follow measurements on 2-core course machines (TF 2.21 / Keras 3.15), Nielsen's final net
at batch 128:

- `mixed_precision=None` (float32). "auto" picks bfloat16 on a machine without a GPU whose CPU
  computes it natively (AMX or AVX-512 BF16: `native_bfloat16()`), float32 elsewhere (GPUs were
  not measured: choose "float16" there), by measurement: on a Xeon with AMX "bfloat16" gave
  about +20% images/s (4.4-5.3 k vs 3.4-4.5 k); on an AMD EPYC with AVX2 only, 0.37x float32
  (384 vs 1,025 images/s, `reproductions/bench_recipe_defaults.py`).
  Either changes the numerics of rows compared against documented float32 figures, so it is
  opt-in; every result row records the precision it used. Under a mixed policy every model
  keeps its `predictions` layer (the softmax) in float32, as Keras' mixed precision guide does.
- `jit_compile="auto"` (Keras' rule: XLA on GPUs, not on CPU-only machines): XLA made this net
  slower on the CPU (2.0-2.8 k images/s). It pays off only where per-step overhead dominates
  (MNIST-1D's 2,050-parameter CNN: ~244 -> ~700 steps/s with `steps_per_execution=100`).
  Keras turns XLA off while TF op determinism is on, so XLA needs `deterministic=False`.
- "float16" is for GPUs: on this CPU it is emulated and ran ~30x slower (10 vs 312 images/s for
  Nielsen's basic conv net), so `fit` refuses it on a machine without a GPU.
- `steps_per_execution=1`: progress and callbacks per step. Raising it changes the speed, not the
  arithmetic (identical histories): the Nielsen reproduction uses 10 (its 784-100-10 net: 16 s a
  run instead of 26 s; its final net: +3-4% images/s), MNIST-1D 50-100 (see above).
  `steps_per_epoch` must then be a multiple of it.
- "adam" and "adamw" build `fused_adam.FusedAdam(W)`: Keras' Adam with TensorFlow's one-kernel
  update (the same formula, to float rounding): +7-24% images/s for the final net (alternating
  in-process A/B, 4 rounds: medians 8.6 k vs 7.8 k float32 at batch 128; 15.3 k vs 13.4 k with
  the final recipe's bfloat16, batch 256, EMA, 10 steps per execution).
- `deterministic=True`: with a seed, two runs on the same machine give identical metrics
  (see `determinism.py`); set False to let random augmentation in `tf.data.map` run in parallel.
"""

import dataclasses
import functools
from pathlib import Path

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("constant", "cosine", "linear")
MIXED_PRECISION = (None, "auto", "bfloat16", "float16")


@dataclasses.dataclass(frozen=True)
class Recipe:
    """How to train one network. All sizes are per replica; see `strategy.py` for the rules."""

    optimizer: str = "sgd"  # one of OPTIMIZERS
    learning_rate: float = 0.01  # for one replica at `batch_size`
    schedule: str = "constant"  # constant, cosine (to 0), linear (to 0) over all steps
    momentum: float = 0.0  # sgd and rmsprop
    nesterov: bool = False  # sgd
    weight_decay: float | None = None  # decoupled decay (optimizer's own default when None)
    batch_size: int = 32  # per replica
    epochs: int = 1
    steps_per_epoch: int | None = None  # None: one pass over the training data per epoch
    shuffle: bool = True  # reshuffle (x, y) training arrays every epoch (the book never does)
    # Keras L2 on every kernel (conv and dense weights, not biases): loss += l2 * sum(w^2).
    # Nielsen's network3.py adds 0.5 * lmbda * sum(w^2) / batches: l2 = 0.5 * lmbda / batches
    # (lmbda 0.1 with 5,000 batches of 10 -> 1e-5).
    l2: float = 0.0
    dropout: bool | float = True  # True: the model's own rates; False: none; a float: that rate
    label_smoothing: float = 0.0
    warmup_epochs: int = 0  # linear warm-up from 0 before the schedule (cosine only)
    ema: bool = False  # evaluate and keep an exponential moving average of the weights
    seed: int | None = 0  # None: not seeded, not reproducible
    deterministic: bool = True  # TF op determinism (identical reruns; slower random tf.data maps)
    mixed_precision: str | None = None  # None (float32), "auto", "bfloat16" or "float16"
    jit_compile: bool | str = "auto"  # XLA: True, False or "auto"
    steps_per_execution: int = 1
    lr_scaling: str = "linear"  # how the rate follows the number of replicas: linear or none

    def __post_init__(self):
        def check(ok, name, expected):
            if not ok:
                raise ValueError(f"Recipe {name} must be {expected}, got {getattr(self, name)!r}")

        check(self.optimizer in OPTIMIZERS, "optimizer", f"one of {OPTIMIZERS}")
        check(self.schedule in SCHEDULES, "schedule", f"one of {SCHEDULES}")
        check(self.learning_rate > 0, "learning_rate", "> 0")
        check(0 <= self.momentum < 1, "momentum", "in [0, 1)")
        check(self.momentum == 0 or self.optimizer in ("sgd", "rmsprop"), "momentum",
              "0 unless optimizer is sgd or rmsprop")
        check(not self.nesterov or self.optimizer == "sgd", "nesterov",
              "False unless optimizer is sgd")
        check(self.weight_decay is None or self.weight_decay >= 0, "weight_decay", "None or >= 0")
        for name in ("batch_size", "epochs", "steps_per_execution"):
            check(_positive_int(getattr(self, name)), name, "a positive integer")
        check(self.steps_per_epoch is None or _positive_int(self.steps_per_epoch),
              "steps_per_epoch", "None or a positive integer")
        # on an endless stream Keras runs whole executions: 15 steps in tens would train 20
        check(not self.steps_per_epoch or self.steps_per_epoch % self.steps_per_execution == 0,
              "steps_per_epoch", f"a multiple of steps_per_execution ({self.steps_per_execution}; "
              "Keras would otherwise run extra steps each epoch)")
        check(self.l2 >= 0, "l2", ">= 0")
        check(isinstance(self.dropout, bool) or 0 <= self.dropout < 1, "dropout",
              "True, False or a rate in [0, 1)")
        check(0 <= self.label_smoothing < 1, "label_smoothing", "in [0, 1)")
        check(_int_at_least(self.warmup_epochs, 0) and self.warmup_epochs < self.epochs
              and (self.warmup_epochs == 0 or self.schedule == "cosine"), "warmup_epochs",
              "an integer in [0, epochs), used with the cosine schedule")
        check(self.seed is None or _int_at_least(self.seed, 0), "seed", "None or an integer >= 0")
        check(self.mixed_precision in MIXED_PRECISION, "mixed_precision",
              f"one of {MIXED_PRECISION}")
        check(self.jit_compile in (True, False, "auto"), "jit_compile", "True, False or 'auto'")
        check(self.lr_scaling in ("linear", "none"), "lr_scaling", "'linear' or 'none'")
        check(self.jit_compile is not True or not self.deterministic, "jit_compile",
              "False or 'auto' while deterministic=True (Keras turns XLA off under TF op "
              "determinism); set deterministic=False to use XLA")

    @property
    def dtype_policy(self):
        """The Keras dtype policy name for `mixed_precision` ("auto" resolved on this machine)."""
        precision = self.mixed_precision
        if precision == "auto":
            import tensorflow as tf

            gpu = bool(tf.config.list_physical_devices("GPU"))
            precision = "bfloat16" if native_bfloat16() and not gpu else None
        return f"mixed_{precision}" if precision else "float32"

    def learning_rate_schedule(self, steps_per_epoch, replicas=1):
        """The rate scaled for `replicas` (a float), or a Keras schedule over all the steps."""
        import keras

        from keras_cnn_course.training.strategy import scaled_learning_rate

        rate = scaled_learning_rate(self.learning_rate, replicas, self.lr_scaling)
        total_steps = self.epochs * int(steps_per_epoch)
        if self.schedule == "cosine":
            warmup = self.warmup_epochs * int(steps_per_epoch)
            return keras.optimizers.schedules.CosineDecay(
                0.0 if warmup else rate, decay_steps=total_steps - warmup,
                warmup_target=rate if warmup else None, warmup_steps=warmup)
        if self.schedule == "linear":
            return keras.optimizers.schedules.PolynomialDecay(rate, total_steps, 0.0, power=1.0)
        return rate

    def build_optimizer(self, steps_per_epoch, replicas=1):
        """The Keras optimizer, its rate scaled for `replicas`, its schedule over all steps."""
        import keras

        from keras_cnn_course.training.fused_adam import FusedAdam, FusedAdamW

        rate = self.learning_rate_schedule(steps_per_epoch, replicas)
        decay = {} if self.weight_decay is None else {"weight_decay": self.weight_decay}
        decay["use_ema"] = self.ema
        if self.optimizer == "sgd":
            return keras.optimizers.SGD(rate, momentum=self.momentum, nesterov=self.nesterov,
                                        **decay)
        if self.optimizer == "rmsprop":
            return keras.optimizers.RMSprop(rate, momentum=self.momentum, **decay)
        if self.optimizer == "adamw":
            return FusedAdamW(rate, **decay)
        return FusedAdam(rate, **decay)

    def loss_function(self, num_classes, from_logits=False):
        """Per-example cross-entropy on integer labels, with the recipe's label smoothing; for
        `num_classes` 1 (one sigmoid or logit output), binary cross-entropy on 0/1 labels."""
        import keras
        from keras import ops

        def binary_crossentropy(y_true, y_pred):
            labels = ops.reshape(ops.cast(y_true, y_pred.dtype), (-1, 1))
            return keras.losses.binary_crossentropy(labels, y_pred, from_logits=from_logits,
                                                    label_smoothing=self.label_smoothing)

        if num_classes == 1:
            return binary_crossentropy

        def sparse_crossentropy(y_true, y_pred):
            labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
            if not self.label_smoothing:
                return keras.losses.sparse_categorical_crossentropy(
                    labels, y_pred, from_logits=from_logits
                )
            return keras.losses.categorical_crossentropy(
                ops.one_hot(labels, num_classes), y_pred,
                from_logits=from_logits, label_smoothing=self.label_smoothing,
            )

        return sparse_crossentropy


@functools.cache
def native_bfloat16(cpuinfo="/proc/cpuinfo"):
    """True when the CPU has bfloat16 arithmetic (AMX or AVX-512 BF16); elsewhere TF emulates it.

    Read from the Linux CPU flags; False where they cannot be read (macOS, Windows).
    """
    try:
        flags = Path(cpuinfo).read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("amx_bf16", "avx512_bf16"))


def _int_at_least(value, low):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _positive_int(value):
    return _int_at_least(value, 1)
