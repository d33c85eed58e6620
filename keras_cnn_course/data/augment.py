"""Distorted training images for the final network: random translations, rotations and scaling.

Lecture note 004 ("Final Network"): "augment the 50,000 training images with 200,000 distorted
images (translations, rotations, scaling, etc.)". Applied on the fly, a new distortion each epoch.
"""

import keras


def augmentation(seed=None, *, translation=0.1, rotation_degrees=10.0, zoom=0.1):
    """Keras preprocessing layers applying a random translation, rotation and zoom to (B, H, W, C)."""
    for name, value in [("translation", translation), ("rotation_degrees", rotation_degrees),
                        ("zoom", zoom)]:
        if value < 0:
            raise ValueError(f"{name} must be >= 0; got {value}")
    fill = dict(fill_mode="constant", fill_value=0.0)
    return keras.Sequential(
        [
            keras.layers.RandomTranslation(translation, translation, seed=seed, **fill),
            keras.layers.RandomRotation(rotation_degrees / 360.0, seed=seed, **fill),
            keras.layers.RandomZoom(zoom, zoom, seed=seed, **fill),
        ],
        name="augmentation",
    )
