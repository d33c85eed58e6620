"""The PyTorch twins of the benchmarked Keras networks and their training loop (`make bench`).

Same layers, widths, activations, dropout and parameter counts as the Keras factories (checked by
`bench.py` before measuring); the optimizers use Keras' settings (Adam's epsilon 1e-7). Images are
NCHW, PyTorch's own layout. Only `reproductions/bench.py` imports this module: the package itself
never needs torch (`pip install -e '.[bench]'`).

Reference: Nielsen, NNDL ch. 6, src/conv.py double_fc_dropout (the final network);
Prince, Understanding Deep Learning, section 10.2.7 (the MNIST-1D CNN).
"""

import contextlib
import time

import torch
from torch import nn


def nielsen_double_fc_dropout():
    """Conv(20, 5x5)-pool-Conv(40, 5x5)-pool, dropout 0.5 before FC 1000, FC 1000, 10: 1,672,570."""
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 40, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.5), nn.Linear(4 * 4 * 40, 1000), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(1000, 1000), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(1000, 10),
    )


def mnist1d_cnn():
    """Three Conv1d(15, 3, stride 2) + ReLU: 40 -> 19 -> 9 -> 4, then 60 -> 10: 2,050."""
    return nn.Sequential(
        nn.Unflatten(1, (1, 40)),
        nn.Conv1d(1, 15, 3, stride=2), nn.ReLU(),
        nn.Conv1d(15, 15, 3, stride=2), nn.ReLU(),
        nn.Conv1d(15, 15, 3, stride=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * 15, 10),
    )


MODELS = {"nielsen_double_fc_dropout": nielsen_double_fc_dropout, "mnist1d_cnn": mnist1d_cnn}


def build_optimizer(name, parameters, learning_rate, fused=False):
    if name == "adam":
        return torch.optim.Adam(parameters, learning_rate, eps=1e-7,  # Keras' epsilon
                                fused=fused or None)
    if name == "sgd":
        return torch.optim.SGD(parameters, learning_rate)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


class TorchRunner:
    """Trains each case's network on in-memory arrays, timing whole epochs of fixed steps."""

    def __init__(self, arrays, seed=0):
        torch.manual_seed(seed)
        self.arrays, self.trainers = arrays, {}

    def parameters(self, model_name):
        return sum(p.numel() for p in MODELS[model_name]().parameters())

    def _trainer(self, case):
        if case["name"] not in self.trainers:
            x, y = self.arrays[case["data"]]
            x = torch.from_numpy(x)
            if x.ndim == 4:
                x = x.permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
            model = MODELS[case["model"]]()
            optimizer = build_optimizer(case["optimizer"], model.parameters(),
                                        case["learning_rate"], case.get("torch_fused", False))
            self.trainers[case["name"]] = (model, optimizer, x, torch.from_numpy(y), [0])
        return self.trainers[case["name"]]

    def _epoch(self, case):
        model, optimizer, x, y, position = self._trainer(case)
        batch, correct = case["batch_size"], 0
        model.train()
        autocast = (torch.autocast("cpu", dtype=torch.bfloat16)
                    if case["precision"] == "bfloat16" else contextlib.nullcontext())
        for _ in range(case["steps_per_epoch"]):
            start = position[0] if position[0] + batch <= len(y) else 0
            images, labels = x[start:start + batch], y[start:start + batch]
            position[0] = start + batch
            optimizer.zero_grad(set_to_none=True)
            with autocast:
                logits = model(images)
                loss = nn.functional.cross_entropy(logits, labels)
            loss.backward()
            optimizer.step()
            correct += int((logits.argmax(1) == labels).sum())  # Keras tracks accuracy too
        return correct

    def measure(self, case, seconds):
        """images/s over whole epochs after a first (warm-up) one, for at least `seconds`."""
        self._epoch(case)
        durations = []
        while sum(durations) < seconds:
            start = time.perf_counter()
            self._epoch(case)
            durations.append(time.perf_counter() - start)
        images = case["batch_size"] * case["steps_per_epoch"] * len(durations)
        return {"images_per_second": images / sum(durations), "measured_seconds": sum(durations),
                "epochs": len(durations)}


def versions():
    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
