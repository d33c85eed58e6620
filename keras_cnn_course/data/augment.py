"""Distorted training images for the final network: random translations, rotations and scaling.

Lecture note 004 ("Final Network"): "augment the 50,000 training images with 200,000 distorted
images (translations, rotations, scaling, etc.)". Applied on the fly, a new distortion each epoch;
optionally preceded by an elastic distortion (Simard et al. 2003, the 99.6% Nielsen cites).

The translation, rotation and zoom of an image are composed into one affine map and applied by one
bilinear resampling (`keras.ops.image.affine_transform`): Keras' RandomTranslation, RandomRotation
and RandomZoom in a row resample three times, which blurs the strokes and, on a 2-core CPU, took
about 2.5x as long per image.
"""

import math

import keras
from keras import ops

from keras_cnn_course.data.elastic import RandomElasticDistortion


def augmentation(seed=None, *, translation=0.1, rotation_degrees=10.0, zoom=0.1,
                 elastic_alpha=0.0, elastic_sigma=4.0):
    """Keras layers applying a random (elastic,) translation, rotation and zoom to (B, H, W, C)."""
    elastic = [RandomElasticDistortion(elastic_alpha, elastic_sigma, seed)] if elastic_alpha else []
    affine = RandomAffine(translation, rotation_degrees, zoom, seed=seed)
    return keras.Sequential([*elastic, affine], name="augmentation")


def affine_transforms(draws, height, width, translation, rotation_degrees, zoom):
    """Keras' 8-number projective transforms (output pixel -> input pixel) from uniform draws.

    `draws` (B, 4) in [-1, 1] choose, per image, the rotation (up to `rotation_degrees`), the zoom
    (input scale 1 + draw * zoom, as keras.layers.RandomZoom; > 1 zooms out) and the shift (up to
    `translation` of the width and height), all about the image centre.
    """
    angle = draws[:, 0] * (rotation_degrees * math.pi / 180.0)
    scale = 1.0 + draws[:, 1] * zoom
    shift_x, shift_y = draws[:, 2] * (translation * width), draws[:, 3] * (translation * height)
    centre_x, centre_y = (width - 1) / 2.0, (height - 1) / 2.0
    cos, sin = ops.cos(angle) * scale, ops.sin(angle) * scale
    offset_x = centre_x - cos * centre_x + sin * centre_y - shift_x
    offset_y = centre_y - sin * centre_x - cos * centre_y - shift_y
    zeros = ops.zeros_like(cos)
    return ops.stack([cos, -sin, offset_x, sin, cos, offset_y, zeros, zeros], axis=1)


class RandomAffine(keras.layers.Layer):
    """A random translation, rotation and zoom per image, in one resampling; zeros fill the edges."""

    def __init__(self, translation=0.1, rotation_degrees=10.0, zoom=0.1, seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in [("translation", translation), ("rotation_degrees", rotation_degrees),
                            ("zoom", zoom)]:
            if value < 0:
                raise ValueError(f"{name} must be >= 0; got {value}")
        if zoom >= 1:
            raise ValueError(f"zoom must be < 1 (a scale of 1 - zoom must stay positive); got {zoom}")
        self.translation, self.rotation_degrees, self.zoom = translation, rotation_degrees, zoom
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        shape = ops.shape(images)
        draws = keras.random.uniform((shape[0], 4), -1.0, 1.0, seed=self.seed_generator)
        transforms = affine_transforms(draws, ops.cast(shape[1], "float32"),
                                       ops.cast(shape[2], "float32"), self.translation,
                                       self.rotation_degrees, self.zoom)
        return ops.image.affine_transform(images, transforms, interpolation="bilinear",
                                          fill_mode="constant", fill_value=0.0)

    def get_config(self):
        return {**super().get_config(), "translation": self.translation,
                "rotation_degrees": self.rotation_degrees, "zoom": self.zoom, "seed": self.seed}
