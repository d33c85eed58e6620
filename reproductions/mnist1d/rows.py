"""The MNIST-1D study of Understanding Deep Learning, reproduced: `make reproduce-mnist1d`.

Claim (Prince, UDL section 10.2.7, fig. 10.8; lecture note 004): on MNIST-1D (4,000 training and
1,000 test signals of length 40) a CNN with 2,050 parameters fits the training data perfectly and
reaches ~17% test error, while a fully connected net 285-135-60 (59,065 parameters) fits it too
but stays at ~40%: the convolution's inductive bias, not its size, makes it generalise.
Evidence: `results/mnist1d.md`, generated from the raw runs in `results/mnist1d.csv` (command,
seed, protocol, hardware, versions and wall time on every row); the curves in the manner of
fig. 10.8 in `results/figures/mnist1d_fig10_8.png`.

Protocol `book`: every row trains by its source's own recipe, 5 seeds each, error after the last
step on the full training and test sets:
- UDL 10.2.7 (`cnn`, `fc`): 100,000 steps of SGD without momentum, learning rate 0.01, batch 100,
  cross-entropy.
- UDL ch. 8 baseline (`mlp`): MLP 40-100-100-10, SGD learning rate 0.1, batch 100, 6,000 steps.
- mnist1d's benchmark table (`benchmark_*`): Adam, learning rate 1e-2, batch 100, 6,000 steps,
  batches taken in order without reshuffling (as its training loop does).
Controls (`*_shuffled`): the same networks on the data set with its 40 positions shuffled by one
fixed permutation. A convolution relies on neighbouring positions belonging together, so the
CNN's advantage should vanish; a fully connected net cannot tell the orders apart.

What differs from the sources: Keras' default initialisation (Glorot-uniform weights, zero
biases) instead of PyTorch's; 5 seeds per row instead of one run; our benchmark MLP is UDL's
plain 40-100-100-10 (15,210 parameters), while mnist1d's MLPBase adds a residual connection
around its second layer (h + relu(W2 h)), with the same parameter count.

Speed: every seed of every row that shares a recipe trains as an independent copy inside one
XLA-compiled step (`keras_cnn_course.training.multi_seed`), each copy exactly a separate run; the
copies are dealt out to two one-thread worker processes side by side (`--workers`). Measured on
a 2-core AMD EPYC: the whole study in 8 min 47 s (10,000 steps of the 20 UDL copies: 67 s in one
process, 56 s in two workers).

Reference: S. Prince, Understanding Deep Learning (2023), sections 8.1 and 10.2.7, figs 8.2 and
10.7-10.8; S. Greydanus & D. Kobak, "Scaling down deep learning with MNIST-1D" (ICML 2024),
github.com/greydanus/mnist1d (README benchmark table, notebooks/train.py, notebooks/models.py).
"""

import dataclasses

from keras_cnn_course.training import Recipe

UDL = Recipe(optimizer="sgd", learning_rate=0.01, batch_size=100, epochs=100,
             steps_per_epoch=1000, jit_compile=True, steps_per_execution=100,
             deterministic=False)  # an "epoch" is 1,000 steps: the curves' resolution
UDL_CH8 = dataclasses.replace(UDL, learning_rate=0.1, epochs=24, steps_per_epoch=250,
                              steps_per_execution=50)
BENCHMARK = dataclasses.replace(UDL_CH8, optimizer="adam", learning_rate=1e-2, shuffle=False)


@dataclasses.dataclass(frozen=True)
class Row:
    """One network on one data set, trained by one recipe; a run measures `keys`."""

    keys: tuple  # documented.csv keys (controls have their own key and no documented figure)
    model: str  # keras_cnn_course.models name, built with logits out
    recipe: Recipe  # rows that share one train their seeds together, as copies
    shuffle_seq: bool = False  # the spatially shuffled data set
    seeds: int = 5


ROWS = {
    "cnn": Row(keys=("mnist1d_cnn_test_error", "mnist1d_cnn_train_error"), model="mnist1d_cnn",
               recipe=UDL),
    "fc": Row(keys=("mnist1d_fc_test_error", "mnist1d_fc_train_error"), model="mnist1d_fc",
              recipe=UDL),
    "cnn_shuffled": Row(keys=("mnist1d_cnn_shuffled_test_error",), model="mnist1d_cnn",
                        recipe=UDL, shuffle_seq=True),
    "fc_shuffled": Row(keys=("mnist1d_fc_shuffled_test_error",), model="mnist1d_fc", recipe=UDL,
                       shuffle_seq=True),
    "mlp": Row(keys=("mnist1d_mlp_test_error",), model="mnist1d_mlp", recipe=UDL_CH8),
    "benchmark_cnn": Row(keys=("mnist1d_benchmark_cnn_accuracy",), model="mnist1d_benchmark_cnn",
                         recipe=BENCHMARK),
    "benchmark_cnn_shuffled": Row(keys=("mnist1d_benchmark_cnn_shuffled_accuracy",),
                                  model="mnist1d_benchmark_cnn", recipe=BENCHMARK,
                                  shuffle_seq=True),
    "benchmark_mlp": Row(keys=("mnist1d_benchmark_mlp_accuracy",), model="mnist1d_mlp",
                         recipe=BENCHMARK),
    "benchmark_mlp_shuffled": Row(keys=("mnist1d_benchmark_mlp_shuffled_accuracy",),
                                  model="mnist1d_mlp", recipe=BENCHMARK, shuffle_seq=True),
}
