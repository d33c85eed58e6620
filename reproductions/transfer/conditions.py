"""Transfer learning from ImageNet on real images, offline: `make reproduce-transfer`.

Claim (lecture note 001): train on ImageNet; on a small data set freeze the pretrained layers and
retrain the last one; with more data fine-tune more layers. Measured here with EfficientNet-Lite0
(its published ImageNet weights, converted offline) against the same network trained from
scratch, on (a) Tux Paint's photo stamps (186 real photos, 6 classes, 5-fold cross-validation) and
(b) Fashion-MNIST with 100 / 1,000 / 10,000 training images (a learning curve, several seeds).

Three ways to use the network, each a `Recipe` trained by `training.fit`:
- scratch: random initialisation, every layer trained (Adam 1e-3), BatchNorm momentum 0.9
  (`SCRATCH_BN_MOMENTUM`) so that its moving statistics settle within a few epochs;
- frozen: the ImageNet network as a fixed feature extractor (features computed once, cached),
  a new softmax layer trained on them (Adam 1e-3);
- fine_tuned: the frozen case's new layer, then block7a and the 1x1 head conv trained with it
  (Adam 1e-4) on cached block6 outputs; BatchNorm kept in inference mode.
Every condition trains on the same images: a fifth of each split's training images (stratified,
drawn with the split's seed) is held out for validation, never the test set. Each trains until
its validation accuracy has not improved for `PATIENCE` epochs (or `recipe.epochs`, a cap) and
keeps the weights of its best validation epoch (EarlyStopping with restore_best_weights); the
test set is scored once, after training. An epoch is one pass over the training images, or
`MIN_EPOCH_STEPS` steps where a pass is shorter. Batch 32. No augmentation in any condition (the
cached cases could not see it).
Images: photos at PHOTO_SIZE, cut-outs centred on white; Fashion-MNIST upsampled to
FASHION_SIZE, grey copied to RGB.
The `*_gain` rows are paired differences (same split, same seed) in percentage points; the
documented claims judge their 95% t-interval over the seeds (or folds).

Evidence: the reference results/transfer.csv (every run with command, seed, hardware, versions,
wall time), results/transfer.md, results/figures/transfer_*.png. Accuracies in percent.
"""


import dataclasses

from keras_cnn_course.training import Recipe

PROTOCOL, CUT = "offline", "block6d_add"
PHOTO_SIZE, FOLDS = 96, 5
FASHION_SIZE, FASHION_SIZES, FASHION_SEEDS, FASHION_TEST = 64, (100, 1000, 10000), 3, 2000


# 16 steps a call of the compiled step: the same steps, less Python between them (the frozen
# case's steps of one softmax layer were mostly per-step overhead).
ADAM = Recipe(optimizer="adam", learning_rate=1e-3, batch_size=32, steps_per_execution=16,
              jit_compile=False)
# Each condition's recipe; `epochs` caps it (early stopping ends it sooner).
CONDITIONS = {
    "scratch": dataclasses.replace(ADAM, epochs=60),
    "frozen": dataclasses.replace(ADAM, epochs=300),
    "fine_tuned": dataclasses.replace(ADAM, learning_rate=1e-4, epochs=100),
}
PATIENCE = 5  # epochs without a better validation accuracy before a condition stops
MIN_EPOCH_STEPS = 32  # a multiple of steps_per_execution
VALIDATION_FOLDS = 5  # one fold of the training images validates: a fifth
BATCH = ADAM.batch_size
# Keras' default 0.99 leaves BatchNorm's moving statistics near their initial values after a few
# hundred steps: the scratch network then scored chance on the test set at 68-100% training
# accuracy. 0.9 lets them follow the data within ~50 steps.
SCRATCH_BN_MOMENTUM = 0.9
# Paired differences in test accuracy (percentage points) on the same split and seed.
GAINS = {"frozen_gain": ("frozen", "scratch"), "fine_tune_gain": ("fine_tuned", "frozen")}
# Splits trained side by side in one-thread worker processes (see runner.py).
WORKERS = 2
QUICK = dict(folds=2, per_class=6, sizes=(100,), seeds=1, test=200, epochs=2, steps=2)


@dataclasses.dataclass(frozen=True)
class Row:
    """A training set (photo folds, or a Fashion-MNIST size) trained under the three conditions;
    a run is one fold or seed of it, and measures one key per condition and per gain."""

    part: str  # "photos" or "fashion"
    size: int | None  # Fashion-MNIST training images
    seeds: int  # photo folds, or Fashion-MNIST seeds
    quick_seeds: int  # folds or seeds a --quick run trains (0: none)
    protocols = (PROTOCOL,)  # the protocols it runs under

    @property
    def prefix(self):
        return self.part if self.size is None else f"{self.part}_{self.size}"

    @property
    def keys(self):
        return tuple(f"{self.prefix}_{name}" for name in (*CONDITIONS, *GAINS))


def recipe_for(condition, train_images, seed, quick=False):
    """The condition's recipe for one split: its seed, and `MIN_EPOCH_STEPS` steps an epoch
    where a pass over `train_images` is shorter; --quick: QUICK's epochs and steps."""
    recipe = dataclasses.replace(CONDITIONS[condition], seed=seed)
    if quick:
        return dataclasses.replace(recipe, epochs=QUICK["epochs"], steps_per_epoch=QUICK["steps"],
                                   steps_per_execution=1)
    if -(-train_images // recipe.batch_size) < MIN_EPOCH_STEPS:
        return dataclasses.replace(recipe, steps_per_epoch=MIN_EPOCH_STEPS)
    return recipe


@dataclasses.dataclass(frozen=True)
class SourceRow:
    """A documented recipe (`sources.py`), run once under its own protocol."""

    protocol: str
    seeds: int = 1
    quick_seeds: int = 0

    @property
    def protocols(self):
        return (self.protocol,)

    @property
    def keys(self):
        from reproductions.transfer.sources import SOURCES

        return SOURCES[self.protocol].keys


ONLINE = ("tf_tutorial", "keras_guide", "keras_example")
ROWS = {"photos": Row("photos", None, FOLDS, QUICK["folds"]),
        **{f"fashion_{n}": Row("fashion", n, FASHION_SEEDS, QUICK["seeds"] if n in QUICK["sizes"]
                               else 0) for n in FASHION_SIZES},
        **{protocol: SourceRow(protocol) for protocol in ONLINE}}
