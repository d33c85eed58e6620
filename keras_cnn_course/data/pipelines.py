"""MNIST as tf.data pipelines: float32 images (B, 28, 28, 1) in [0, 1] and int64 labels.

tf.data's autotuning is switched off: on a 2-core machine it stalls epochs by seconds
(see the performance notes); parallelism is set explicitly instead.
"""

import numpy as np
import tensorflow as tf

from keras_cnn_course.data.augment import augmentation
from keras_cnn_course.data.expand import expand_mnist
from keras_cnn_course.data.mnist import load_mnist

SPLITS = ("train", "validation", "test")


def pipeline_options():
    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def gathered_batches(x, y, batch_size, *, shuffle=False, seed=None, drop_remainder=False,
                     transform=None):
    """(x, y) arrays as a tf.data.Dataset of batches, `transform(images, labels)` applied to each.

    Only the indices are shuffled and batched; each batch is then gathered from the arrays in one
    op, which leaves more of a small CPU to training than slicing and batching example by example
    (~5-10% more images/s for Nielsen's final net on 2 cores).
    The shuffled order depends on `seed` and on TensorFlow's global seed when this is called.
    """
    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive; got {batch_size}")
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length; got {len(x)} and {len(y)}")
    images, labels = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.range(len(y))
    if shuffle:  # a new order every epoch; `seed` makes the sequence of orders reproducible
        indices = indices.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)

    def gather(batch):
        batch_images, batch_labels = tf.gather(images, batch), tf.gather(labels, batch)
        return transform(batch_images, batch_labels) if transform else (batch_images, batch_labels)

    dataset = indices.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.map(gather, num_parallel_calls=2).prefetch(2).with_options(pipeline_options())


def arrays_dataset(x, y, batch_size, *, shuffle_seed=None, augment=None, drop_remainder=False,
                   pixel_scale=1 / 255):
    """Batch (x, y) arrays; uint8 images are multiplied by `pixel_scale` and given a channel axis.

    pixel_scale: 1/255 maps 0-255 to [0, 1]; Nielsen's mnist.pkl.gz stores uint8 / 256.
    """
    if not 0 < pixel_scale <= 1:
        raise ValueError(f"pixel_scale must be in (0, 1], e.g. 1/255 or 1/256; got {pixel_scale}")
    scale = pixel_scale if np.asarray(x).dtype == np.uint8 else 1.0

    def to_float(images, labels):
        images = tf.cast(images, tf.float32) * scale
        if images.shape.rank == 3:
            images = images[..., tf.newaxis]
        if augment is not None:
            images = augment(images, training=True)
        return images, labels

    return gathered_batches(x, y, batch_size, shuffle=shuffle_seed is not None, seed=shuffle_seed,
                            drop_remainder=drop_remainder, transform=to_float)


def mnist_dataset(split, batch_size, *, shuffle_seed=None, expanded=False, augment=False,
                  augment_seed=None, drop_remainder=False, cache_dir=None):
    """One split of Nielsen's MNIST as a batched tf.data.Dataset.

    expanded: train on the 250,000-image 1-pixel expansion (train split only).
    augment: random translation/rotation/zoom on the fly (train split only).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}; got {split!r}")
    if (expanded or augment) and split != "train":
        raise ValueError(f"expanded/augment apply to the train split only; got split={split!r}")
    x, y = getattr(load_mnist(cache_dir), split)
    if expanded:
        x, y = expand_mnist(x, y, seed=0)
    layers = augmentation(augment_seed) if augment else None
    return arrays_dataset(x, y, batch_size, shuffle_seed=shuffle_seed, augment=layers,
                          drop_remainder=drop_remainder)
