"""The MNIST-1D reproduction: each row's network, data and recipe, and the --quick path end to end."""

import numpy as np
import pandas as pd
import pytest

from keras_cnn_course import results
from keras_cnn_course.results import comparison
from keras_cnn_course.models import get_model
from reproductions import mnist1d
from reproductions.mnist1d import runner as mnist1d_runner


pytestmark = pytest.mark.usefixtures("restore_op_determinism")


def documented():
    return results.load_documented()


@pytest.mark.parametrize("name", list(mnist1d.ROWS))
def test_each_row_builds_its_documented_network(name):
    row = mnist1d.ROWS[name]
    figures = documented()
    counts = figures[(figures["study"] == "params") & (figures["config"] == "")]
    model = mnist1d_runner.network(row.model)()
    assert model.count_params() == dict(zip(counts["model"], counts["value"]))[row.model]
    assert model.output_shape == (None, 10)
    mine = figures[figures["key"].isin(row.keys)]
    assert (mine["study"] == "mnist1d").all() and (mine["model"] == row.model).all()
    shuffled = mine["config"].str.contains("shuffle_seq")
    assert (shuffled == row.shuffle_seq).all()
    if name.endswith("_shuffled") and not name.startswith("benchmark"):
        assert mine.empty  # a control: no documented figure, a key of its own


def test_every_documented_mnist1d_figure_has_a_row():
    keys = {key for row in mnist1d.ROWS.values() for key in row.keys}
    figures = documented()
    assert set(figures[figures["study"] == "mnist1d"]["key"]) <= keys


def test_recipes_are_the_sources_protocols():
    udl, ch8, benchmark = mnist1d.rows.UDL, mnist1d.rows.UDL_CH8, mnist1d.rows.BENCHMARK
    assert (udl.optimizer, udl.momentum, udl.learning_rate, udl.batch_size) == ("sgd", 0, 0.01, 100)
    assert udl.epochs * udl.steps_per_epoch == 100_000 and udl.schedule == "constant"
    assert (ch8.optimizer, ch8.momentum, ch8.learning_rate, ch8.batch_size) == ("sgd", 0, 0.1, 100)
    assert ch8.epochs * ch8.steps_per_epoch == 6000
    assert (benchmark.optimizer, benchmark.learning_rate, benchmark.batch_size) == ("adam", 1e-2, 100)
    assert benchmark.epochs * benchmark.steps_per_epoch == 6000 and not benchmark.shuffle
    for recipe in (udl, ch8, benchmark):
        assert recipe.steps_per_epoch % recipe.steps_per_execution == 0 and recipe.jit_compile is True
    assert {mnist1d.ROWS[n].recipe for n in ("cnn", "fc", "cnn_shuffled", "fc_shuffled")} == {udl}
    assert all(row.seeds >= 5 for row in mnist1d.ROWS.values())


def test_shuffled_data_is_one_fixed_permutation_of_the_positions():
    (x, y), (x_test, y_test) = mnist1d_runner.load(False)
    (xs, ys), (xs_test, ys_test) = mnist1d_runner.load(True)
    assert (y == ys).all() and (y_test == ys_test).all()
    permutation = [int(np.argmin(((x - xs[:, [j]]) ** 2).sum(0))) for j in range(40)]
    assert sorted(permutation) == list(range(40)) and permutation != list(range(40))
    np.testing.assert_allclose(x[:, permutation], xs)
    np.testing.assert_allclose(x_test[:, permutation], xs_test)


def test_quick_path_end_to_end(tmp_path):
    argv = ["--quick", "--rows", "cnn", "fc_shuffled", "benchmark_mlp", "--results-dir", str(tmp_path)]
    assert mnist1d.main(argv) == 0
    runs = pd.read_csv(tmp_path / "mnist1d.csv")
    assert set(runs["key"]) == {"mnist1d_cnn_test_error", "mnist1d_cnn_train_error",
                                "mnist1d_fc_shuffled_test_error", "mnist1d_benchmark_mlp_accuracy"}
    assert sorted(runs["seed"].unique()) == [0, 1] and (runs["protocol"] == "book").all()
    assert np.allclose(runs["test_error"] + runs["test_accuracy"], 100)
    # by default each recipe's runs are dealt out to two worker processes: 4 udl runs in two
    # shares of 2 copies, the 2 benchmark runs in two shares of 1
    assert set(runs["copies"]) == {2, 1} and (runs["steps"] == 40).all()
    table = (tmp_path / "mnist1d.md").read_text()
    cnn = runs[runs["key"] == "mnist1d_cnn_test_error"]["test_error"]
    assert "| mnist1d_cnn_test_error | mnist1d_cnn | test_error | book | 17 % | ±4 | " in table
    assert comparison.number(cnn.mean()) in table
    history = pd.read_csv(tmp_path / "histories" / "mnist1d" / "cnn-book-seed0.csv")
    assert list(history["step"]) == [0, 20, 40] and history["test_error"].between(0, 100).all()
    for figure in ("mnist1d_fig10_8.png", "mnist1d_6000_steps.png", "mnist1d_vs_documented.png"):
        assert (tmp_path / "figures" / figure).stat().st_size > 0
    # Rerunning skips finished runs instead of training them again.
    assert mnist1d.main(argv) == 0
    assert len(pd.read_csv(tmp_path / "mnist1d.csv")) == len(runs)


def test_strategy_and_a_cluster_are_refused_with_the_reason(monkeypatch, capsys):
    from reproductions import transfer

    with pytest.raises(SystemExit) as stop:  # a study on one device does not offer --strategy
        mnist1d.main(["--quick", "--strategy", "2"])
    assert stop.value.code == 2 and "unrecognized arguments: --strategy" in capsys.readouterr().err
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["localhost:1", "localhost:2"]}, '
                       '"task": {"type": "worker", "index": 1}}')
    assert mnist1d.main(["--quick"]) == 2
    err = capsys.readouterr().err
    assert "without kcc launch" in err and "copies inside one compiled step" in err
    assert transfer.main(["--quick"]) == 2
    assert "reproductions.transfer: TF_CONFIG describes a cluster" in capsys.readouterr().err


def test_unknown_row_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit) as stop:
        mnist1d.main(["--quick", "--rows", "cnn", "lenet"])
    assert stop.value.code == 2
    assert "invalid choice: 'lenet' (choose from 'cnn', 'fc'," in capsys.readouterr().err


def test_models_output_logits_for_the_summed_loss():
    for row in mnist1d.ROWS.values():
        activation = mnist1d_runner.network(row.model)().layers[-1].activation
        assert activation.__name__ == "linear"
    assert get_model("mnist1d_cnn").layers[-1].activation.__name__ == "softmax"  # the default
