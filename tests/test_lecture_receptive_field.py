"""The layer table's receptive field, jump and start against the gradient of one output unit."""

import keras
import pytest

from keras_cnn_course.lecture.receptive_field import gradient_support, layer_table, support_extent
from keras_cnn_course.models import get_model


def stack(specs, size=23, dims=2, padding="valid"):
    conv = keras.layers.Conv2D if dims == 2 else keras.layers.Conv1D
    layers = []
    for i, spec in enumerate(specs, start=1):
        if spec == "avg":
            pool = keras.layers.AveragePooling2D if dims == 2 else keras.layers.AveragePooling1D
            layers.append(pool(2, name=f"pool{i}"))
            continue
        kernel, stride, dilation = spec
        layers.append(conv(2, kernel, strides=stride, dilation_rate=dilation, padding=padding,
                           name=f"conv{i}"))
    return keras.Sequential([keras.Input((size,) * dims + (1,)), *layers])


def check_layer(model, name, unit, samples=4):
    """The support of `unit` of layer `name` is [c - (r-1)/2, c + (r-1)/2], c = start + unit·j."""
    row = layer_table(model).set_index("name").loc[name]
    extent = support_extent(gradient_support(model, name, unit, samples))
    rf, jump, start = (v if isinstance(v, tuple) else (v,) * len(unit)
                       for v in (row["receptive field"], row["jump"], row["start"]))
    for axis, (first, last) in enumerate(extent):
        centre = start[axis] + unit[axis] * jump[axis]
        assert (first, last) == (centre - (rf[axis] - 1) / 2, centre + (rf[axis] - 1) / 2), name
    return rf[0]


def test_stacked_3x3_convolutions_see_5x5_then_7x7():
    model = stack([(3, 1, 1)] * 3)
    assert [check_layer(model, f"conv{i}", (5, 6)) for i in (1, 2, 3)] == [3, 5, 7]


@pytest.mark.parametrize("specs, expected", [
    ([(3, 1, 1), (3, 2, 1), (3, 1, 1)], [3, 5, 9]),
    ([(3, 1, 2), (3, 1, 2)], [5, 9]),
    ([(5, 1, 1), "avg", (5, 1, 1), "avg"], [5, 6, 14, 16]),
])
def test_stride_dilation_and_pooling(specs, expected):
    model = stack(specs, size=31)
    names = [layer.name for layer in model.layers]
    assert [check_layer(model, name, (2, 3)) for name in names] == expected


def test_lecture_note_004_one_dimensional_stack():
    """UDL fig. 10.6: kernel 3, 3, 3 (stride 2), 3 with zero padding: 3, 5, 7, then 11."""
    model = stack([(3, 1, 1), (3, 1, 1), (3, 2, 1), (3, 1, 1)], size=31, dims=1, padding="same")
    assert [check_layer(model, f"conv{i}", (7,)) for i in (1, 2, 3, 4)] == [3, 5, 7, 11]


def test_registry_networks():
    cnn = get_model("mnist1d_cnn")
    convs = [layer.name for layer in cnn.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [check_layer(cnn, name, (1,)) for name in convs] == [3, 7, 15]
    nielsen = get_model("nielsen_dbl_conv")  # max pooling: union over many random inputs
    assert check_layer(nielsen, "pool2", (1, 2), samples=16) == 16


def test_bad_unit_is_refused():
    with pytest.raises(ValueError, match="unit"):
        gradient_support(stack([(3, 1, 1)], size=7), unit=(9, 9))
