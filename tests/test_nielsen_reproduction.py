"""The Nielsen reproduction: each row's configuration, and the --quick path end to end."""

import argparse

import numpy as np
import pandas as pd
import pytest

from keras_cnn_course import plots, results
from keras_cnn_course.results import comparison
from keras_cnn_course.models import get_model
from reproductions import nielsen_mnist, study
from reproductions.nielsen_mnist import runner as nielsen_runner


def documented_parameters():
    figures = results.load_documented()
    figures = figures[(figures["study"] == "params") & (figures["config"] == "")]
    return dict(zip(figures["model"], figures["value"]))


@pytest.mark.parametrize("name", list(nielsen_mnist.ROWS))
def test_each_row_builds_its_documented_network(name):
    row = nielsen_mnist.ROWS[name]
    assert set(row.keys) <= set(results.load_documented()["key"])
    for protocol in ("fast", "book"):
        model = get_model(row.model, **row.model_options(protocol))
        expected = documented_parameters().get(row.model)
        if expected is not None:
            assert model.count_params() == expected
        assert model.output_shape == (None, 10)


def test_rows_use_the_intended_data_regime_and_recipe():
    rows = nielsen_mnist.ROWS
    assert {name for name, row in rows.items() if row.data == "expanded"} == {
        "row4", "row4b_300", "row4b_1000", "row5", "row5b_300", "row5b_1000", "row6"}
    distorted = {name for name, row in rows.items() if row.random_distortions("fast")}
    assert distorted == {"row6"} and not rows["row6"].random_distortions("book")
    book = rows["row3"].recipe("book", seed=1)
    assert (book.optimizer, book.batch_size, book.learning_rate, book.epochs, book.shuffle) == (
        "sgd", 10, 0.03, 60, False)
    assert rows["row3"].model_options("book") == {"l2": pytest.approx(1e-5), "book_init": True}
    assert rows["row4"].model_options("book")["l2"] == pytest.approx(2e-6)
    assert rows["row6"].recipe("book", 0).epochs == 40
    assert rows["row6"].model_options("fast") == {"l2": None}


def test_book_protocol_reads_pixels_as_the_books_pickle_stores_them():
    splits = nielsen_runner.load_splits(quick=True)
    row = nielsen_mnist.ROWS["row0"]
    brightest = {}
    for protocol in ("book", "fast"):
        dataset = nielsen_runner.training_data(splits, row.data, row.recipe(protocol, 0), 1000,
                                               pixel_scale=row.pixel_scale(protocol))
        brightest[protocol] = float(next(iter(dataset))[0].numpy().max())
    assert brightest == {"book": 255 / 256, "fast": 1.0}  # mnist.pkl.gz: uint8 / 256


def test_expanded_regime_trains_on_five_times_the_images():
    splits = nielsen_runner.load_splits(quick=True)
    recipe = nielsen_mnist.ROWS["row4"].recipe("fast", 0)
    dataset = nielsen_runner.training_data(splits, "expanded", recipe, 100)
    assert int(dataset.cardinality()) == 5 * len(splits.train[1]) // 100
    final = nielsen_mnist.ROWS["row6"]  # the same images and order, randomly distorted
    distorted = nielsen_runner.training_data(splits, final.data, recipe, 100,
                                             final.random_distortions("fast"))
    (plain_x, plain_y), (distorted_x, distorted_y) = (next(iter(d)) for d in (dataset, distorted))
    assert np.array_equal(plain_y, distorted_y) and not np.allclose(plain_x, distorted_x)


def test_plurality_vote():
    votes = [[1, 2, 3], [1, 2, 4], [5, 6, 4]]
    assert nielsen_runner.plurality_vote(votes).tolist() == [1, 2, 4]


def test_misclassified_digits_draws_each_wrong_digits_note(monkeypatch, tmp_path):
    drawn = []
    monkeypatch.setattr(plots, "save", lambda figure, path: drawn.extend(
        text.get_text() for axis in figure.axes for text in axis.texts))
    plots.misclassified_digits(np.zeros((3, 28, 28)), [1, 2, 3], [1, 5, 3], tmp_path / "m.png",
                               notes=["0/5", "4/5", "1/5"])
    assert drawn == ["2", "5", "4/5"]  # only the wrong digit: true label, prediction, its note


def test_the_book_protocols_final_net_figures_do_not_replace_the_fast_ones(tmp_path):
    figure = {protocol: nielsen_runner.final_net_figure(
                  study.Context(nielsen_mnist.STUDY, argparse.Namespace(protocol=protocol),
                                tmp_path), "misclassified")
              for protocol in ("fast", "book")}
    assert figure["fast"] == tmp_path / "figures" / "nielsen_mnist" / "misclassified.png"
    assert figure["book"] == tmp_path / "figures" / "nielsen_mnist" / "misclassified-book.png"


def test_no_vote_until_all_the_documented_nets_are_there(tmp_path):
    splits = nielsen_runner.load_splits(quick=True)
    folder = tmp_path / "predictions" / "nielsen_mnist"
    folder.mkdir(parents=True)
    for seed in range(3):  # the book protocol's 3 runs: not the 5 nets of the documented vote
        np.save(folder / f"row6-book-seed{seed}.npy", splits.test[1])
    context = study.Context(nielsen_mnist.STUDY, argparse.Namespace(protocol="book"), tmp_path)
    nielsen_runner.vote(context, "row6", ("mnist_row7_ensemble_vote",), 5, splits)
    assert not (tmp_path / "nielsen_mnist.csv").exists()
    nielsen_runner.vote(context, "row6", ("mnist_row7_ensemble_vote",), 3, splits)
    assert pd.read_csv(tmp_path / "nielsen_mnist.csv")["ensemble_size"].tolist() == [3]


def test_quick_path_end_to_end(tmp_path):
    code = nielsen_mnist.main(["--quick", "--rows", "row0", "row6", "--results-dir", str(tmp_path)])
    assert code == 0
    runs = pd.read_csv(tmp_path / "nielsen_mnist.csv")
    assert {"mnist_row0_shallow", "mnist_row6_double_fc_dropout", "lecture_final",
            "mnist_row7_ensemble_vote"} <= set(runs["key"])
    assert (runs["protocol"] == "fast").all() and runs["test_accuracy"].between(0, 100).all()
    table = (tmp_path / "nielsen_mnist.md").read_text()
    row0 = runs[runs["key"] == "mnist_row0_shallow"].iloc[0]
    assert f"| mnist_row0_shallow | nielsen_shallow | test_accuracy | fast | 97.8 %" in table
    assert comparison.number(row0["test_accuracy"]) in table
    for figure in ("row0-fast.png", "row6-fast.png", "misclassified.png", "first_layer_filters.png"):
        assert (tmp_path / "figures" / "nielsen_mnist" / figure).stat().st_size > 0
    # Rerunning skips finished rows instead of training them again: a --quick directory (it is
    # marked as one) takes --quick runs again, and no real ones.
    assert (tmp_path / ".quick").is_file()
    assert nielsen_mnist.main(["--quick", "--rows", "row0", "--results-dir", str(tmp_path)]) == 0
    assert len(pd.read_csv(tmp_path / "nielsen_mnist.csv")) == len(runs)
