"""The exercise checks say what is wrong in one line, and never pass a wrong answer."""

import numpy as np
import pytest

from keras_cnn_course.exercises import ExerciseError, lecture000, lecture001, lecture002, nielsen
from keras_cnn_course.lecture import correlation


def rejects(check, *answer, says):
    with pytest.raises(ExerciseError) as raised:
        check(*answer)
    message = str(raised.value)
    assert "\n" not in message and says in message, message
    return message


@pytest.mark.parametrize("answer, says", [
    ("correlate", "must be a function; received a str"),
    (None, "not written yet"),
    (lambda image, kernel: image, "expected shape"),
    (lambda image, kernel: "text", "expected an array; received a str"),
    (lambda image, kernel: image[0, 0], "shape ()"),
    (lambda image, kernel: 1 / 0, "raised ZeroDivisionError"),
])
def test_a_wrong_type_or_shape_is_named_in_one_line(answer, says):
    rejects(lecture000.cross_correlation, answer, says=says)


def test_the_classic_mistakes_are_caught_with_the_index_that_differs():
    # convolution written as a correlation: the values differ, at a named index
    message = rejects(lecture000.convolution, lambda i, k: correlation.correlate(i, k),
                      says="values differ; at index")
    assert "expected" in message
    # Keras' convention with the lecture's rotation: the input gradient is wrong
    rejects(lecture000.conv_backward,
            lambda delta, w: correlation.convolve(delta, w[::-1, ::-1], "full"),
            lambda x, delta: correlation.correlate(x, delta), says="∂L/∂x")
    rejects(lecture001.output_size, lambda w, f, s, p: (w - f + 2 * p) / s + 1,
            says="for W=")  # no floor: 227, 11, 4 gives 55.0 but 10, 4, 3, 1 gives 4.33
    rejects(lecture001.sobel_y, np.array([[-1, -2, -1], [0, 0, 0], [-1, -2, -1]]),
            says="the kernel as printed")
    rejects(lecture001.sobel_y, np.ones((2, 2)), says="shape (2, 2)")


def test_hand_counts_say_too_large_or_too_small_but_not_the_answer():
    message = rejects(lecture001.alexnet_conv1, 11 * 11 * 3 * 96, 1, says="too small")
    assert "34,944" not in message and "34944" not in message
    rejects(lecture001.alexnet_conv1, "many", 1, says="must be a number; received a str")


def test_a_function_that_returns_a_count_hears_too_large_or_too_small_but_not_the_count():
    message = rejects(lecture001.output_size, lambda w, f, s, p: w - f, says="too small")
    assert message.endswith("for W=7, F=3, S=1, P=0 your function returns 4, which is too small.")
    message = rejects(lecture002.conv_params, lambda k, c, f: 5 * 5 * c * f, says="too small")
    assert "456" not in message  # 5 * 5 * 3 * 6 weights + 6 biases
    rejects(lecture000.transposed_size, lambda *args: "6", says="returns a str; return a number")
    rejects(lecture001.receptive_field, lambda layers: 100, says="too large")


def test_a_model_is_compared_layer_by_layer():
    import keras

    def wrong_lenet():  # max pooling and 32 filters: same shapes, different counts at layer 2
        return keras.Sequential([
            keras.Input((32, 32, 1)), keras.layers.Conv2D(6, 5), keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(32, 5), keras.layers.MaxPooling2D(), keras.layers.Flatten(),
            keras.layers.Dense(120), keras.layers.Dense(84), keras.layers.Dense(10)])

    rejects(lecture002.lenet5, wrong_lenet, says="layer with weights no. 2 is Conv2D")
    rejects(lecture002.lenet5, lambda: "lenet", says="must return a keras.Model")
    rejects(nielsen.second_network,
            lambda: keras.Sequential([keras.Input((32, 32, 1)), keras.layers.Flatten()]),
            says="the input shape is (32, 32, 1)")
    rejects(nielsen.second_network, lambda: keras.Sequential([keras.layers.Dense(10)]),
            says="start it with keras.Input")


def test_right_answers_pass():
    lecture000.cross_correlation(lambda i, k: correlation.correlate(i, k))
    lecture001.output_size(lambda w, f, s, p: (w - f + 2 * p) // s + 1)
    nielsen.misclassified(lambda p, y: np.flatnonzero(p.argmax(axis=1) != y))
