"""Distorted training images for the final network: random translations, rotations and scaling.

Lecture note 004 ("Final Network"): "augment the 50,000 training images with 200,000 distorted
images (translations, rotations, scaling, etc.)". Applied on the fly, a new distortion each epoch;
optionally preceded by an elastic distortion (Simard et al. 2003, the 99.6% Nielsen cites).
"""

import keras

from keras_cnn_course.data.elastic import RandomElasticDistortion


def augmentation(seed=None, *, translation=0.1, rotation_degrees=10.0, zoom=0.1,
                 elastic_alpha=0.0, elastic_sigma=4.0):
    """Keras layers applying a random (elastic,) translation, rotation and zoom to (B, H, W, C)."""
    for name, value in [("translation", translation), ("rotation_degrees", rotation_degrees),
                        ("zoom", zoom), ("elastic_alpha", elastic_alpha)]:
        if value < 0:
            raise ValueError(f"{name} must be >= 0; got {value}")
    fill = dict(fill_mode="constant", fill_value=0.0)
    elastic = [RandomElasticDistortion(elastic_alpha, elastic_sigma, seed)] if elastic_alpha else []
    return keras.Sequential(
        [
            *elastic,
            keras.layers.RandomTranslation(translation, translation, seed=seed, **fill),
            keras.layers.RandomRotation(rotation_degrees / 360.0, seed=seed, **fill),
            keras.layers.RandomZoom(zoom, zoom, seed=seed, **fill),
        ],
        name="augmentation",
    )
