"""`kcc figures` writes the lecture's figures; the model figures work on any Conv2D net."""

import numpy as np

from keras_cnn_course import cli, plots
from keras_cnn_course.lecture import commands, figures
from keras_cnn_course.models import get_model


def test_kcc_figures_writes_the_image_figures(tmp_path, capsys):
    out = tmp_path / "figures"
    assert cli.main(["figures", "--out", str(out), "--only", *commands.IMAGE_FIGURES]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == sorted(f"{name}.png" for name in commands.IMAGE_FIGURES)  # no temp files
    for path in out.iterdir():
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5_000
    assert "5 figures" in capsys.readouterr().out


def test_model_figures_on_a_small_untrained_net(tmp_path):
    model = get_model("nielsen_dbl_conv")
    digit = np.zeros((28, 28))
    digit[5:23, 12:16] = 1.0  # a "1"
    maps = plots.save(figures.feature_maps_figure(model, digit, " (test)"), tmp_path / "maps.png")
    kernels = plots.save(figures.first_layer_filters_figure(model), tmp_path / "filters.png")
    assert maps.stat().st_size > 5_000 and kernels.stat().st_size > 5_000


def test_missing_model_file_is_a_clear_error(tmp_path, capsys):
    missing = tmp_path / "nope.keras"
    assert cli.main(["figures", "--out", str(tmp_path), "--model", str(missing)]) == 2
    assert "nope.keras" in capsys.readouterr().err
