"""The documented recipes (`sources.py`) on the package's engine: TFDS for the data,
keras.applications for the backbones, `training.fit` for every stage.

Before anything is trained or written, `preflight` checks that the data set is prepared in the
TFDS data directory (or that its download host answers) and that the ImageNet weights are in the
Keras cache or given as a file (or that their host answers); without them it stops in one line
naming what to download and how to provide it. A TFDS directory left half-written (no
dataset_info.json, or a shard file missing or empty) is refused, not trained on.
"""

import dataclasses
import json
import os
import socket
from pathlib import Path

import pandas as pd

from reproductions.transfer import sources
from reproductions.transfer.sources import SOURCES, TFDS_TIMEOUT, WEIGHTS_HOST


def reachable(host, timeout=TFDS_TIMEOUT):
    """True when `host` accepts a connection on port 443 within `timeout` seconds."""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def dataset_ready(name, data_dir=None):
    """True when TFDS `name` is fully prepared in `data_dir` (default ~/tensorflow_datasets),
    False when it is absent; a ValueError naming the directory when it is there but incomplete
    (no dataset_info.json, or a shard file it lists missing or empty). Reads the directory
    alone, without starting TensorFlow."""
    root = Path(data_dir or Path.home() / "tensorflow_datasets") / name
    fix = f"delete it and prepare {name} again (`tfds build {name} --data_dir {root.parent}`)"
    versions = sorted(path for path in root.glob("*") if path.is_dir()) if root.is_dir() else []
    complete = [path for path in versions if (path / "dataset_info.json").exists()]
    if not complete:
        if versions:
            raise ValueError(f"{versions[-1]} is a partial TFDS download (no dataset_info.json): "
                             f"{fix}")
        return False
    directory = complete[-1]
    info = json.loads((directory / "dataset_info.json").read_text())
    kind = info.get("fileFormat", "tfrecord")
    files = [directory / f"{name}-{split['name']}.{kind}-{i:05d}-of-{len(split['shardLengths']):05d}"
             for split in info.get("splits", []) for i in range(len(split["shardLengths"]))]
    broken = [path for path in files if not path.exists() or path.stat().st_size == 0]
    if not files or broken:
        example = broken[0].name if broken else "no splits listed"
        raise ValueError(f"{directory} is incomplete: {len(broken)} of {len(files)} shard files "
                         f"missing or empty ({example}): {fix}")
    return True


def keras_weights_cache(file_name):
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(base) / "models" / file_name


def missing_downloads(source, data_dir=None, weights=None):
    """What `source` would download that this machine cannot reach: a list of one-phrase
    descriptions with how to provide each (empty when it can run)."""
    missing = []
    if not dataset_ready(source.dataset, data_dir) and not reachable(source.data_host):
        where = data_dir or "~/tensorflow_datasets"
        missing.append(f"the TFDS data set {source.dataset} (from {source.data_host}, not in "
                       f"{where}): run `tfds build {source.dataset} --data_dir DIR` where there is "
                       "internet and pass --data-dir DIR")
    if source.weights == "imagenet":
        if weights:
            if not Path(weights).is_file():
                raise FileNotFoundError(f"--weights {weights}: no such file; give the Keras "
                                        f"weights file {source.weights_file}")
        elif (not keras_weights_cache(source.weights_file).exists()
              and not reachable(WEIGHTS_HOST.split("/")[2])):
            missing.append(f"the Keras ImageNet weights {source.weights_file} (from "
                           f"{WEIGHTS_HOST}): download it and pass --weights PATH (or put it in "
                           f"{keras_weights_cache('')})")
    return missing


def preflight(protocol, data_dir=None, weights=None):
    """Raise ConnectionError (one line) when `protocol` needs downloads this machine cannot
    reach; nothing has been written then."""
    missing = missing_downloads(SOURCES[protocol], data_dir, weights)
    if missing:
        raise ConnectionError(f"--protocol {protocol} needs downloads this machine cannot reach: "
                              + "; ".join(missing) + ". Nothing was run or written.")


def load_splits(source, data_dir=None):
    """(train, validation, test or None) as unbatched (image float32 [0, 255] resized to the
    source's size, label) datasets."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    splits = tfds.load(source.dataset, split=list(source.splits), as_supervised=True,
                       data_dir=data_dir, shuffle_files=False)
    size = (source.image_size, source.image_size)

    def resize(image, label):
        return tf.image.resize(image, size), label

    splits = [split.take(source.limit) if source.limit else split for split in splits]
    splits = [split.map(resize) for split in splits]
    train, validation, *test = splits
    if source.test_batches_of_validation:  # tf_tutorial: the first fifth of the batches test
        count = int(validation.cardinality())
        if count < 0:  # not known from the metadata: count once
            count = int(validation.reduce(0, lambda n, _: n + 1))
        batches = -(-count // source.batch_size)
        held = batches // source.test_batches_of_validation * source.batch_size
        test, validation = [validation.take(held)], validation.skip(held)
    return train, validation, (test[0] if test else None)


def augmentation_layers(source):
    import keras

    return [getattr(keras.layers, name)(**kwargs) for name, kwargs in source.augmentation]


def training_data(source, train, seed):
    """`train` shuffled (each epoch, seeded) if the source shuffles, batched, augmented in the
    pipeline where the source augments there: a function of the batch size for `training.fit`."""
    def batches(batch_size):
        data = train
        if source.shuffle:
            data = data.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size, drop_remainder=source.drop_remainder)
        if not source.augment_in_model:
            layers = augmentation_layers(source)

            def augment(images, labels):
                for layer in layers:
                    images = layer(images, training=True)
                return images, labels

            data = data.map(augment)
        return data.prefetch(2)

    return batches


def base_network(source, weights, include_top=False, **kwargs):
    """The keras.applications backbone: with `include_top`, from random weights (scratch);
    else with `weights` (a file) or the source's ("imagenet", or None in tests)."""
    from keras_cnn_course.models import get_model

    weights = None if include_top else weights or source.weights
    return get_model(source.backbone, include_top=include_top, weights=weights, **kwargs)


def frozen_model(source, weights=None):
    """The source's model for its frozen stage: the ImageNet base frozen (BatchNorm in inference
    mode), its new head on top; `model.base` is the base network."""
    import keras

    shape = (source.image_size,) * 2 + (3,)
    inputs = keras.Input(shape)
    if source.head == "softmax_bn":  # keras_example: the base's layers inline, on the raw pixels
        base = base_network(source, weights, input_tensor=inputs)
        base.trainable = False
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(base.output)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Dropout(0.2, name="top_dropout")(x)
        outputs = keras.layers.Dense(source.classes, activation="softmax", name="pred")(x)
    else:
        base = base_network(source, weights, input_shape=shape)
        base.trainable = False
        x = inputs
        for layer in augmentation_layers(source):
            x = layer(x)
        x = keras.layers.Rescaling(1 / 127.5, offset=-1)(x)  # preprocess_input: [-1, 1]
        x = base(x, training=False)  # BatchNorm in inference mode, also once unfrozen
        x = keras.layers.GlobalAveragePooling2D()(x)
        x = keras.layers.Dropout(0.2)(x)
        activation = "sigmoid" if source.head == "binary_sigmoid" else None
        outputs = keras.layers.Dense(1, activation=activation)(x)
    model = keras.Model(inputs, outputs)
    model.base = base
    return model


def unfreeze(model, unfreeze):
    """Make the layers of the stage trainable: "all" the base, n > 0 the base's layers n and up,
    n < 0 the model's last -n layers except BatchNorm.

    The base's BatchNorm layers stay frozen, hence in inference mode: the sources call the base
    with training=False for that, which Keras 3.15 does not honour for a nested model once the
    outer one trains (its moving statistics moved, tests/test_transfer_protocols.py)."""
    import keras

    if unfreeze in ("all",) or unfreeze > 0:
        model.base.trainable = True
        for layer in model.base.layers[:0 if unfreeze == "all" else unfreeze]:
            layer.trainable = False
        for layer in model.base.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False
    else:
        for layer in model.layers[unfreeze:]:
            if not isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = True
    return model


def scratch_model(source):
    """The whole network from random weights, `source.classes` outputs (keras_example)."""
    return base_network(source, None, include_top=True, input_shape=(source.image_size,) * 2 + (3,),
                        classes=source.classes)


def train_source(source, run, context):
    """Every stage of `source`, in order, by `training.fit`; one result row per stage."""
    from keras_cnn_course.training import fit

    args = context.args
    train, validation, test = load_splits(source, args.data_dir)
    model, histories = None, []
    for key, stage in source.stages.items():
        recipe = dataclasses.replace(stage.recipe, seed=run.seed)
        if stage.unfreeze == "scratch":
            build = lambda: scratch_model(source)  # noqa: E731
        elif stage.unfreeze == "none":
            build = lambda: frozen_model(source, args.weights)  # noqa: E731
        else:
            build = lambda: unfreeze(model, stage.unfreeze)  # noqa: E731
        result = fit(build, recipe, training_data(source, train, run.seed),
                     validation.batch(source.batch_size), log_dir=context.run_dir(run) / key,
                     tensorboard=args.tensorboard)
        if stage.unfreeze != "scratch":
            model = result.model
        metrics = {"validation_accuracy": 100 * result.final["val_accuracy"],
                   "train_accuracy": 100 * result.final["accuracy"]}
        if test is not None:
            scores = result.model.evaluate(test.batch(source.batch_size), verbose=0,
                                           return_dict=True)
            metrics["test_accuracy"] = 100 * scores["accuracy"]
        context.append_run(run, metrics, key=key, epochs=len(result.history["epoch"]),
                           steps=result.steps, wall_seconds=result.wall_seconds,
                           images_per_second=result.images_per_second,
                           precision=result.precision)
        print(f"{key}: validation {metrics['validation_accuracy']:.1f}% "
              f"({result.wall_seconds:.0f} s)", flush=True)
        histories.append(pd.DataFrame(result.history).assign(condition=key))
    context.keep_history(run, frame=pd.concat(histories))


def train(runs, context):
    for run in runs:
        train_source(sources.SOURCES[run.protocol], run, context)
        yield run
