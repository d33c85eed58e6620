"""The documented transfer recipes, each as its source states it: `--protocol tf_tutorial`,
`keras_guide`, `keras_example` of `python -m reproductions.transfer`.

- tf_tutorial: TensorFlow tutorial "Transfer learning and fine-tuning"
  (tensorflow/docs site/en/tutorials/images/transfer_learning.ipynb): MobileNetV2 at 160x160 on
  cats vs dogs (2,000 training images, 1,000 validation images of which a fifth of the batches
  test); augmentation RandomFlip("horizontal") + RandomRotation(0.2) in the model, then
  mobilenet_v2.preprocess_input ([-1, 1]); the base called with training=False; global average
  pooling, Dropout(0.2), Dense(1, sigmoid), binary cross-entropy; batch 32, shuffled; 10 epochs
  of Adam 1e-4 frozen; then layers 100 and up unfrozen, 10 epochs of RMSprop 1e-5.
- keras_guide: Keras guide "Transfer learning & fine-tuning" (keras-io guides/transfer_learning.py):
  Xception at 150x150 on TFDS cats_vs_dogs train[:40%] / [40%:50%] (validation) / [50%:60%]
  (test), resized with tf.image.resize, batch 32, not shuffled; RandomFlip("horizontal") +
  RandomRotation(0.1) in the model, Rescaling(1/127.5, offset=-1); the base called with
  training=False; global average pooling, Dropout(0.2), Dense(1) logits, binary cross-entropy;
  20 epochs of Adam 1e-3 frozen; then the whole base unfrozen, 10 epochs of Adam 1e-5.
- keras_example: Keras example "Image classification via fine-tuning with EfficientNet"
  (keras-io examples/vision/image_classification_efficientnet_fine_tuning.py): EfficientNetB0
  at 224x224 on Stanford Dogs (120 classes; its 12,000 training images, its 8,580 test images
  as validation), batch 64, shuffled, last partial batch dropped; augmentation in the input
  pipeline: RandomRotation(0.15), RandomTranslation(0.1, 0.1), RandomFlip(), RandomContrast(0.1);
  pixels in [0, 255] (EfficientNet normalises inside); scratch: the whole network with 120
  outputs, 40 epochs of Adam 1e-3; frozen: global average pooling, BatchNormalization,
  Dropout(0.2), Dense(120, softmax), 25 epochs of Adam 1e-2; fine-tuned: the last 20 layers
  unfrozen except BatchNorm (kept in inference mode), 4 epochs of Adam 1e-5.

Each stage's row records its last epoch's validation accuracy (as the sources report it) and,
where the source holds a test set out, the test accuracy after the stage.
"""

import dataclasses

from keras_cnn_course.training import Recipe

TFDS_TIMEOUT = 10  # seconds to learn whether a download host answers
WEIGHTS_HOST = "https://storage.googleapis.com/tensorflow/keras-applications"


@dataclasses.dataclass(frozen=True)
class Stage:
    """One training stage of a source: its recipe and which layers of the base it trains."""

    recipe: Recipe
    # "none": the base frozen; "all": every layer; an int n > 0: base layers n and up
    # (tf_tutorial's fine_tune_at); an int n < 0: the last -n layers of the whole model, except
    # BatchNorm (keras_example's unfreeze_model); "scratch": a new network from random weights
    unfreeze: object = "none"


@dataclasses.dataclass(frozen=True)
class Source:
    """A documented recipe: data set and splits (TFDS), backbone, input pipeline, stages."""

    protocol: str
    title: str
    dataset: str  # TFDS name
    splits: tuple  # TFDS split strings: (train, validation) or (train, validation, test)
    backbone: str  # a keras.applications network of the model registry (models.get_model)
    image_size: int
    batch_size: int
    stages: dict  # key -> Stage, trained in this order
    test_batches_of_validation: int = 0  # tf_tutorial: test = the first 1/n of its batches
    shuffle: bool = True
    drop_remainder: bool = False
    augmentation: tuple = ()  # (layer class name, kwargs)
    augment_in_model: bool = True  # False: in the input pipeline (keras_example)
    head: str = "binary_sigmoid"  # binary_sigmoid, binary_logit, softmax_bn
    classes: int = 2  # softmax_bn and scratch heads
    weights: str = "imagenet"  # None in tests
    weights_file: str = ""  # the keras.applications file, in ~/.keras/models once fetched
    data_host: str = ""  # where TFDS downloads the data from
    limit: int = 0  # tests: images per split (0: all)

    @property
    def keys(self):
        return tuple(self.stages)


def _recipe(optimizer, rate, epochs, batch):
    return Recipe(optimizer=optimizer, learning_rate=rate, batch_size=batch, epochs=epochs,
                  jit_compile=False)


SOURCES = {
    "tf_tutorial": Source(
        "tf_tutorial", "TF tutorial 'Transfer learning and fine-tuning'", "cats_vs_dogs",
        ("train[:2000]", "train[2000:3000]"), "mobilenet_v2", 160, 32,
        {"tf_tutorial_mobilenet_v2_frozen": Stage(_recipe("adam", 1e-4, 10, 32)),
         "tf_tutorial_mobilenet_v2_fine_tuned": Stage(_recipe("rmsprop", 1e-5, 10, 32), 100)},
        test_batches_of_validation=5,
        augmentation=(("RandomFlip", {"mode": "horizontal"}),
                      ("RandomRotation", {"factor": 0.2})),
        weights_file="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_160_no_top.h5",
        data_host="download.microsoft.com"),
    "keras_guide": Source(
        "keras_guide", "Keras guide 'Transfer learning & fine-tuning'", "cats_vs_dogs",
        ("train[:40%]", "train[40%:50%]", "train[50%:60%]"), "xception", 150, 32,
        {"keras_guide_xception_frozen": Stage(_recipe("adam", 1e-3, 20, 32)),
         "keras_guide_xception_fine_tuned": Stage(_recipe("adam", 1e-5, 10, 32), "all")},
        shuffle=False, head="binary_logit",
        augmentation=(("RandomFlip", {"mode": "horizontal"}),
                      ("RandomRotation", {"factor": 0.1})),
        weights_file="xception_weights_tf_dim_ordering_tf_kernels_notop.h5",
        data_host="download.microsoft.com"),
    "keras_example": Source(
        "keras_example", "Keras example 'Image classification via fine-tuning with "
        "EfficientNet'", "stanford_dogs", ("train", "test"), "efficientnet_b0", 224, 64,
        {"keras_example_stanford_dogs_scratch": Stage(_recipe("adam", 1e-3, 40, 64), "scratch"),
         "keras_example_stanford_dogs_frozen": Stage(_recipe("adam", 1e-2, 25, 64)),
         "keras_example_stanford_dogs_fine_tuned": Stage(_recipe("adam", 1e-5, 4, 64), -20)},
        drop_remainder=True, augment_in_model=False, head="softmax_bn", classes=120,
        augmentation=(("RandomRotation", {"factor": 0.15}),
                      ("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
                      ("RandomFlip", {}), ("RandomContrast", {"factor": 0.1})),
        weights_file="efficientnetb0_notop.h5", data_host="vision.stanford.edu"),
}
