"""Transfer learning from ImageNet, offline: EfficientNet-Lite0's published weights converted to
Keras, ImageNet preprocessing and class names, and keras.applications backbones.

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0
    from keras_cnn_course.transfer import decode_predictions, load_image, preprocess_input

    model = efficientnet_lite0(weights="imagenet")
    probs = model.predict(preprocess_input(load_image("cat.jpg")[None]))
    print(decode_predictions(probs, top=5))
"""

from keras_cnn_course.transfer.backbones import BACKBONES, backbone
from keras_cnn_course.transfer.imagenet import (
    decode_predictions,
    imagenet_classes,
    load_image,
    preprocess_input,
    resize_and_center_crop,
)
from keras_cnn_course.transfer.weights import imagenet_weights_path

__all__ = [
    "BACKBONES",
    "backbone",
    "decode_predictions",
    "imagenet_classes",
    "imagenet_weights_path",
    "load_image",
    "preprocess_input",
    "resize_and_center_crop",
]
