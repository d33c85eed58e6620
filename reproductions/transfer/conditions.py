"""Transfer learning from ImageNet on real images, offline: `make reproduce-transfer`.

Claim (lecture note 001): train on ImageNet; on a small data set freeze the pretrained layers and
retrain the last one; with more data fine-tune more layers. Measured here with EfficientNet-Lite0
(its published ImageNet weights, converted offline) against the same network trained from
scratch, on (a) Tux Paint's photo stamps (186 real photos, 6 classes, 5-fold cross-validation) and
(b) Fashion-MNIST with 100 / 1,000 / 10,000 training images (a learning curve, several seeds).

Three ways to use the network, each with a fixed recipe (no selection on the test data):
- scratch: random initialisation, every layer trained (Adam 1e-3);
- frozen: the ImageNet network as a fixed feature extractor (features computed once, cached),
  a new softmax layer trained on them (Adam 1e-3);
- fine_tuned: the frozen case's new layer, then block7a and the 1x1 head conv trained with it
  (Adam 1e-4) on cached block6 outputs; BatchNorm kept in inference mode.
Batch 32; each case trains for a budget of steps, capped in epochs (`CONDITIONS`), chosen so that the
study fits a 2-core CPU: the scratch network gets at most 300 steps, enough on the small sets but
short of convergence at 10,000 images (its training accuracy is in the CSV beside the test one);
its BatchNorm momentum is 0.9 (`SCRATCH_BN_MOMENTUM`) so that its moving statistics settle.
Images: photos at PHOTO_SIZE, cut-outs centred on white; Fashion-MNIST upsampled to
FASHION_SIZE, grey copied to RGB. No augmentation (the cached cases could not see it either).
The `*_gain` rows are paired differences (same split, same seed) in percentage points.

Evidence: the reference results/transfer.csv (every run with command, seed, hardware, versions,
wall time), results/transfer.md, results/figures/transfer_*.png. Accuracies in percent.
"""


import dataclasses

from keras_cnn_course.training import Recipe

PROTOCOL, CUT = "offline", "block6d_add"
PHOTO_SIZE, FOLDS = 96, 5
FASHION_SIZE, FASHION_SIZES, FASHION_SEEDS, FASHION_TEST = 64, (100, 1000, 10000), 3, 2000


@dataclasses.dataclass(frozen=True)
class Condition:
    """How one condition trains: its recipe, and a budget of steps capped in epochs (epochs =
    min(max_epochs, steps / steps per epoch) for each training set)."""

    recipe: Recipe
    steps: int
    max_epochs: int


# 16 steps a call of the compiled step: the same steps, less Python between them (the frozen
# case's 2,000 steps of one softmax layer were mostly per-step overhead).
ADAM = Recipe(optimizer="adam", learning_rate=1e-3, batch_size=32, steps_per_execution=16,
              jit_compile=False)
CONDITIONS = {
    "scratch": Condition(ADAM, steps=300, max_epochs=20),
    "frozen": Condition(ADAM, steps=2000, max_epochs=200),
    "fine_tuned": Condition(dataclasses.replace(ADAM, learning_rate=1e-4), steps=600,
                            max_epochs=40),
}
BATCH = ADAM.batch_size
# Keras' default 0.99 leaves BatchNorm's moving statistics near their initial values after a few
# hundred steps: the scratch network then scored chance on the test set at 68-100% training
# accuracy. 0.9 lets them follow the data within ~50 steps.
SCRATCH_BN_MOMENTUM = 0.9
# Paired differences in test accuracy (percentage points) on the same split and seed.
GAINS = {"frozen_gain": ("frozen", "scratch"), "fine_tune_gain": ("fine_tuned", "frozen")}
# Splits trained side by side in one-thread worker processes (see runner.py).
WORKERS = 2
QUICK = dict(folds=2, per_class=6, sizes=(100,), seeds=1, test=200, steps=4)


@dataclasses.dataclass(frozen=True)
class Row:
    """A training set (photo folds, or a Fashion-MNIST size) trained under the three conditions;
    a run is one fold or seed of it, and measures one key per condition and per gain."""

    part: str  # "photos" or "fashion"
    size: int | None  # Fashion-MNIST training images
    seeds: int  # photo folds, or Fashion-MNIST seeds
    quick_seeds: int  # folds or seeds a --quick run trains (0: none)

    @property
    def prefix(self):
        return self.part if self.size is None else f"{self.part}_{self.size}"

    @property
    def keys(self):
        return tuple(f"{self.prefix}_{name}" for name in (*CONDITIONS, *GAINS))


ROWS = {"photos": Row("photos", None, FOLDS, QUICK["folds"]),
        **{f"fashion_{n}": Row("fashion", n, FASHION_SEEDS, QUICK["seeds"] if n in QUICK["sizes"]
                               else 0) for n in FASHION_SIZES}}
