"""`nielsen_mnist` as a TensorFlow Datasets builder, prepared offline from the verified cache.

After `import keras_cnn_course.data`, `tfds.load("nielsen_mnist", split="validation")` works with
no network: preparing reads `load_mnist()` (the package's verified cache), never TFDS's own
MNIST download. Splits: train 50,000, validation 10,000, test 10,000; the usual slicing
("train[:10%]") applies.
"""

import numpy as np
import tensorflow_datasets as tfds

from keras_cnn_course.data.mnist import load_mnist


class NielsenMnist(tfds.core.GeneratorBasedBuilder):
    """MNIST in Nielsen's split (the last 10,000 training images are the validation set)."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Nielsen's 50k/10k/10k split of the canonical MNIST arrays."}

    def __init__(self, *, cache_dir=None, **kwargs):
        self._mnist_cache_dir = cache_dir
        super().__init__(**kwargs)

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            description=__doc__,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(28, 28, 1)),
                "label": tfds.features.ClassLabel(num_classes=10),
            }),
            supervised_keys=("image", "label"),
            homepage="http://neuralnetworksanddeeplearning.com/chap6.html",
        )

    def _split_generators(self, dl_manager):
        splits = load_mnist(self._mnist_cache_dir)
        return {name: self._generate_examples(*getattr(splits, name)) for name in splits._fields}

    def _generate_examples(self, images, labels):
        for index, (image, label) in enumerate(zip(images, labels)):
            yield index, {"image": image[..., np.newaxis], "label": int(label)}


def prepare_tfds(data_dir=None, cache_dir=None):
    """Build the TFDS copy of nielsen_mnist (once; later calls return at once)."""
    builder = NielsenMnist(data_dir=data_dir, cache_dir=cache_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(try_download_gcs=False))
    return builder
