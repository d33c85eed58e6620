"""Measure the Recipe defaults that cost speed: op determinism, bfloat16, XLA.

Claim checked: on a CPU, `deterministic=True` (TF op determinism, the Recipe default) costs little
for Nielsen's final network on in-memory data; bfloat16 mixed precision is faster on CPUs with AMX;
XLA is not. Each configuration runs in its own process (op determinism cannot be switched off
inside one), alternating, several repetitions; images/s over the epochs after the first (tracing
excluded), median per configuration. Random images stand in for MNIST: speed does not depend on
pixel values.

    python -m reproductions.bench.recipe_defaults [--repeats 2] [--images 7680] [--epochs 3]
"""

import argparse
import json
import statistics
import subprocess
import sys

from keras_cnn_course.arguments import positive_int

CONFIGS = {
    "float32, deterministic (default)": {},
    "float32, not deterministic": {"deterministic": False},
    "bfloat16, deterministic": {"mixed_precision": "bfloat16"},
    "float32, XLA (not deterministic)": {"jit_compile": True, "deterministic": False},
}

CHILD = """
import json, sys
import numpy as np
from keras_cnn_course.models import get_model
from keras_cnn_course.training import Recipe, fit
images, epochs, changes = int(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
rng = np.random.default_rng(0)
x = rng.random((images, 28, 28, 1), dtype=np.float32)
y = rng.integers(0, 10, images)
recipe = Recipe(optimizer="adam", learning_rate=1e-3, batch_size=128, epochs=epochs, **changes)
result = fit(lambda: get_model("nielsen_double_fc_dropout"), recipe, (x, y), verbose=0)
later = result.epoch_seconds[1:]
print("RESULT" + json.dumps(images * len(later) / sum(later)))
"""


def measure(changes, images, epochs):
    command = [sys.executable, "-c", CHILD, str(images), str(epochs), json.dumps(changes)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=True)
    return json.loads(done.stdout.split("RESULT", 1)[1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=positive_int, default=2)
    parser.add_argument("--images", type=positive_int, default=7680)
    parser.add_argument("--epochs", type=positive_int, default=3)
    args = parser.parse_args(argv)
    speeds = {name: [] for name in CONFIGS}
    for _ in range(args.repeats):
        for name, changes in CONFIGS.items():  # alternate, so load changes hit every config
            speeds[name].append(measure(changes, args.images, args.epochs))
            print(f"{name}: {speeds[name][-1]:.0f} images/s", flush=True)
    baseline = statistics.median(speeds["float32, deterministic (default)"])
    print("\n| configuration | images/s (median) | vs default | runs |\n|---|---|---|---|")
    for name, values in speeds.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.0f} | {median / baseline:.2f}x | "
              f"{', '.join(f'{v:.0f}' for v in values)} |")


if __name__ == "__main__":
    main()
