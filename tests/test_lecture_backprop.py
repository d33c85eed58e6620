"""The written-out gradients of lecture note 000 against tf.GradientTape."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.lecture import backprop
from keras_cnn_course.lecture.correlation import convolve, correlate, rot180

RNG = np.random.default_rng(1)
X = RNG.normal(size=(7, 6))
W = RNG.normal(size=(3, 2))  # not symmetric: a missing or extra rotation shows
B = 0.3


def tape_gradients(flip):
    """Forward z = Conv2D(x) with kernel w (flip=False: Keras, cross-correlation) or with
    rot180(w) (flip=True: a true convolution with w, lecture note 000); loss L = Σ z·g."""
    x = tf.constant(X[None, ..., None], tf.float32)
    w = tf.Variable(W[..., None, None], dtype=tf.float32)
    b = tf.Variable([B], dtype=tf.float32)
    upstream = RNG.normal(size=(5, 5)).astype("float32")
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        kernel = tf.reverse(w, [0, 1]) if flip else w
        z = tf.nn.conv2d(x, kernel, 1, "VALID") + b
        loss = tf.reduce_sum(z[0, ..., 0] * upstream)
    grads = [g.numpy().squeeze() for g in tape.gradient(loss, [x, w, b])]
    return z.numpy()[0, ..., 0], upstream, grads


@pytest.mark.parametrize("convention, flip", [("correlation", False), ("convolution", True)])
def test_gradients_match_gradient_tape(convention, flip):
    z, delta, (dx, dw, db) = tape_gradients(flip)
    np.testing.assert_allclose(backprop.conv_forward(X, W, B, convention), z, atol=1e-5)
    np.testing.assert_allclose(backprop.input_gradient(delta, W, convention), dx, atol=1e-5)
    np.testing.assert_allclose(backprop.kernel_gradient(X, delta, convention), dw, atol=1e-5)
    np.testing.assert_allclose(backprop.bias_gradient(delta), db, atol=1e-5)


def test_keras_conv2d_layer_gradients():
    layer = keras.layers.Conv2D(1, W.shape)
    layer.build((None, *X.shape, 1))
    layer.set_weights([W[..., None, None], np.array([B])])
    x = tf.constant(X[None, ..., None], tf.float32)
    delta = RNG.normal(size=(5, 5)).astype("float32")
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x)[0, ..., 0] * delta)
    dx, dw, db = tape.gradient(loss, [x, *layer.trainable_variables])
    np.testing.assert_allclose(backprop.input_gradient(delta, W), dx.numpy().squeeze(), atol=1e-5)
    np.testing.assert_allclose(backprop.kernel_gradient(X, delta), dw.numpy().squeeze(), atol=1e-5)
    np.testing.assert_allclose(backprop.bias_gradient(delta), db.numpy().squeeze(), atol=1e-5)


def test_where_the_lecture_formulas_apply():
    """δ^{l-1} = δ * rot180(w) is right for the lecture's convolution forward pass, wrong for
    Conv2D's; "∂L/∂w = z ⋆ δ" is right for Conv2D's, rotated for the lecture's."""
    _, delta, (dx_corr, dw_corr, _) = tape_gradients(flip=False)
    _, delta_conv, (dx_conv, dw_conv, _) = tape_gradients(flip=True)
    lecture_dx = convolve(delta, rot180(W), "full")
    assert not np.allclose(lecture_dx, dx_corr, atol=1e-3)
    np.testing.assert_allclose(convolve(delta_conv, rot180(W), "full"), dx_conv, atol=1e-5)
    np.testing.assert_allclose(correlate(X, delta, "valid"), dw_corr, atol=1e-5)
    assert not np.allclose(correlate(X, delta_conv, "valid"), dw_conv, atol=1e-3)
    # the lecture's element-wise formula Σ_ij δ_ij z_{i-m, j-n}, with the valid output
    # index i running from K - 1, is the convolution-convention gradient
    kh, kw = W.shape
    elementwise = np.array([[sum(delta_conv[i, j] * X[i + kh - 1 - m, j + kw - 1 - n]
                                 for i in range(5) for j in range(5))
                             for n in range(kw)] for m in range(kh)])
    np.testing.assert_allclose(elementwise, dw_conv, atol=1e-5)


def test_max_pool_gradient_goes_to_the_argmax_only():
    x = RNG.normal(size=(6, 8, 3))
    upstream = RNG.normal(size=(3, 4, 3))
    xt = tf.constant(x[None], tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(keras.layers.MaxPooling2D(2)(xt)[0] * upstream)
    expected = tape.gradient(loss, xt).numpy()[0]
    ours = backprop.max_pool_gradient(x, upstream)
    np.testing.assert_allclose(ours, expected, atol=1e-6)
    assert (ours != 0).sum() == upstream.size  # one input per pooling window


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention"):
        backprop.input_gradient(X, W, convention="flip")
