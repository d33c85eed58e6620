"""`layer_table`: shapes, parameters and receptive fields, checked against published values and
against the gradient (which input pixels can change a unit); and the `kcc models/summary` commands.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnn_course.cli import main
from keras_cnn_course.models import get_model
from keras_cnn_course.models.summary import COLUMNS, layer_table


def stack(convolutions):
    layers = [keras.layers.Conv2D(1, 3, name=f"conv{i}") for i in range(1, convolutions + 1)]
    return keras.Sequential([keras.Input((9, 9, 1)), *layers])


def test_stacked_3x3_convolutions_see_5x5_then_7x7():
    table = layer_table(stack(3))
    assert list(table.columns) == COLUMNS
    assert table["receptive field"].tolist() == [3, 5, 7]
    assert table["jump"].tolist() == [1, 1, 1] and table["start"].tolist() == [1, 2, 3]


def test_rows_follow_the_model():
    model = get_model("nielsen_dbl_conv")
    table = layer_table(model)
    assert table["name"].tolist() == [layer.name for layer in model.layers]
    assert table["parameters"].sum() == model.count_params() == 85_670
    assert table.set_index("name").loc["pool2", "output shape"] == (None, 4, 4, 40)
    assert table.set_index("name").loc["pool2", ["receptive field", "jump"]].tolist() == [16, 4]


def test_published_receptive_fields_of_alexnet_and_vgg16():
    # Araujo, Norris & Sim, Distill 2019, table: AlexNet 195, VGG-16 212 (at the last pooling).
    alexnet = layer_table(get_model("alexnet", include_top=False)).set_index("name")
    assert alexnet.loc["conv1", ["receptive field", "jump"]].tolist() == [11, 4]
    assert alexnet.loc["pool5", ["receptive field", "jump"]].tolist() == [195, 32]
    vgg = layer_table(get_model("vgg16", include_top=False)).set_index("name")
    assert vgg.loc["block5_pool", ["receptive field", "jump", "start"]].tolist() == [212, 32, 15.5]


def test_one_dimensional_nets_and_mlps():
    cnn = layer_table(get_model("mnist1d_cnn")).set_index("name")
    assert cnn.loc["conv3", ["output shape", "receptive field", "jump"]].tolist() == [
        (None, 4, 15), 15, 8]
    mlp = layer_table(get_model("mnist1d_fc"))
    assert mlp["receptive field"].isna().all()


def test_unet_crops_its_skips_into_alignment():
    table = layer_table(get_model("unet", filters=1)).set_index("name")
    for level in (1, 2, 3, 4):  # the cropped encoder map sits exactly under the decoder's
        crop, up = table.loc[f"up{level}_crop"], table.loc[f"up{level}_upconv"]
        assert (crop["jump"], crop["start"]) == (up["jump"], up["start"])
    assert table.loc["predictions", ["jump", "start"]].tolist() == [1, (572 - 388) / 2]


def _with_average_pooling(layer):
    """Average pooling lets every pixel of a window reach the gradient (max pooling picks one)."""
    if isinstance(layer, keras.layers.MaxPooling2D):
        return keras.layers.AveragePooling2D(layer.pool_size, layer.strides, layer.padding,
                                             name=layer.name)
    return layer.__class__.from_config(layer.get_config())


@pytest.mark.parametrize("name, kwargs", [
    ("unet_same", {"filters": 1, "depth": 3, "input_shape": (64, 64, 1)}),
    ("fcn", {"filters": (1, 1, 1), "input_shape": (48, 48, 1)}),
    ("fcn", {"filters": (1, 1, 1), "input_shape": (48, 48, 1), "upsampling": "nearest"}),
    ("fcn", {"filters": (1, 1), "input_shape": (48, 48, 1), "upsampling": "bilinear"}),
    ("nielsen_dbl_conv_relu", {"include_top": False}),
])
def test_receptive_field_is_where_the_gradient_reaches(name, kwargs):
    kwargs = {**kwargs, "classifier_activation": None}  # a saturated softmax has no gradient
    model = keras.models.clone_model(get_model(name, **kwargs),
                                     clone_function=_with_average_pooling)
    for weight in model.weights:  # positive weights and inputs: no ReLU is ever cut off
        weight.assign(tf.abs(weight) + 0.01)
    size = model.output_shape[1]
    x = tf.ones((size, *model.input_shape[1:]))  # example i asks about output unit (i, i)
    with tf.GradientTape() as tape:
        tape.watch(x)
        units = tf.gather_nd(model(x)[..., 0], [(i, i, i) for i in range(size)])
        total = tf.reduce_sum(units)
    reached = np.asarray(tape.gradient(total, x))[..., 0].sum(axis=2) != 0  # (unit, input row)
    spans = [np.flatnonzero(row)[-1] - np.flatnonzero(row)[0] + 1 for row in reached]
    assert layer_table(model)["receptive field"].iloc[-1] == max(spans)


def test_bad_input():
    with pytest.raises(ValueError, match="keras.Model"):
        layer_table("vgg16")


def test_a_nested_model_is_refused_rather_than_counted_as_one_layer():
    inner = stack(2)
    outer = keras.Sequential([keras.Input((9, 9, 1)), inner,
                              keras.layers.Conv2D(1, 3, name="outer_conv")])
    with pytest.raises(ValueError, match=f"{inner.name!r} is a nested model"):
        layer_table(outer)


def test_kcc_summary_prints_the_layer_table(capsys):
    assert main(["summary", "lenet5", "--input-shape", "28,28,1"]) == 0
    out = capsys.readouterr().out
    assert "44,426 parameters" in out and "receptive field" in out
    assert "AveragePooling2D" in out and "(None, 4, 4, 16)" in out


def test_kcc_summary_unknown_model_suggests_names(capsys):
    assert main(["summary", "lenet"]) == 2
    assert "Did you mean: lenet5" in capsys.readouterr().err


def test_kcc_models_lists_every_factory_with_its_reference(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    from keras_cnn_course.models import SOURCES
    for name in SOURCES:
        assert f"\n{name} " in out
    assert "Ronneberger, Fischer & Brox 2015" in out
