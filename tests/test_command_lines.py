"""Command-line values are refused at parse time: exit code 2 and a message naming the option,
the value and the accepted range, before anything is loaded, trained or written."""

import argparse

import pytest

from keras_cnn_course import arguments, cli
from reproductions import mnist1d, nielsen_mnist, study, transfer


def started(*args, **kwargs):
    raise AssertionError("the command line was accepted and the command started")


@pytest.fixture
def nothing_starts(monkeypatch):
    """A command that gets past parsing fails the test instead of starting its work."""
    from keras_cnn_course import launch_commands
    from keras_cnn_course.lecture import commands as lecture
    from keras_cnn_course.models import commands as models
    from keras_cnn_course.transfer import commands as classify
    from reproductions.bench import recipe_defaults as bench_recipe_defaults
    from reproductions.bench import run as bench

    for module, name in [(study, "_strategy"), (study, "results_directory"),
                         (launch_commands, "run"), (lecture, "run"), (models, "run_summary"),
                         (classify, "run_classify"), (bench, "run_bench"),
                         (bench_recipe_defaults, "measure")]:
        monkeypatch.setattr(module, name, started)


@pytest.mark.parametrize("main, argv, expected", [
    (nielsen_mnist.main, ["--seeds", "0"], "argument --seeds: must be an integer >= 1, got '0'"),
    (nielsen_mnist.main, ["--seeds", "-1"], "argument --seeds: must be an integer >= 1"),
    (nielsen_mnist.main, ["--seeds", "two"], "argument --seeds: must be an integer >= 1"),
    (nielsen_mnist.main, ["--strategy", "0"], "argument --strategy: must be an integer >= 1"),
    (nielsen_mnist.main, ["--rows", "row3", "row9"], "argument --rows: invalid choice: 'row9'"),
    (mnist1d.main, ["--workers", "0"], "argument --workers: must be an integer >= 1"),
    (mnist1d.main, ["--seeds", "0"], "argument --seeds: must be an integer >= 1"),
    (mnist1d.main, ["--rows", "cnn", "lenet"], "argument --rows: invalid choice: 'lenet'"),
    (transfer.main, ["--workers", "0"], "argument --workers: must be an integer >= 1"),
    (transfer.main, ["--seeds", "-1"], "argument --seeds: must be an integer >= 1"),
    (transfer.main, ["--strategy", "2"], "unrecognized arguments: --strategy"),  # one device
    (mnist1d.main, ["--strategy", "2"], "unrecognized arguments: --strategy"),
    (transfer.main, ["--rows", "fashion_7"], "argument --rows: invalid choice: 'fashion_7'"),
    (nielsen_mnist.main, ["--publish", "--results-dir", "x"], "not allowed with argument"),
])
def test_reproductions_refuse_bad_values_at_parse_time(main, argv, expected, nothing_starts,
                                                       capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert expected in capsys.readouterr().err


def test_unknown_rows_are_listed_with_the_known_ones(nothing_starts, capsys):
    with pytest.raises(SystemExit):
        nielsen_mnist.main(["--rows", "row9"])
    err = capsys.readouterr().err
    assert "row9" in err and all(f"'{name}'" in err for name in nielsen_mnist.ROWS)


@pytest.mark.parametrize("argv, expected", [
    (["launch", "--workers", "0", "--", "true"], "argument --workers: must be an integer >= 1"),
    (["launch", "--workers", "-2", "--", "true"], "argument --workers: must be an integer >= 1"),
    (["launch", "--timeout", "nan", "--", "true"], "argument --timeout: must be a finite number > 0"),
    # the plan for several hosts used to print whatever --timeout said
    (["launch", "--hosts", "a:1,b:2", "--timeout", "0", "--", "true"], "argument --timeout"),
    (["launch", "--hosts", "a:1,b:2", "--task-index", "-1", "--", "true"],
     "argument --task-index: must be an integer >= 0"),
    (["figures", "--train-images", "0"], "argument --train-images: must be an integer >= 1"),
    (["figures", "--seed", "-1"], "argument --seed: must be an integer >= 0"),
    (["summary", "lenet5", "--input-shape", "28,0,1"], "argument --input-shape: must be positive"),
    (["summary", "lenet5", "--input-shape", "28x28"], "argument --input-shape: must be positive"),
    (["classify", "photo.jpg", "--top", "0"], "argument --top: must be an integer in [1, 1000]"),
])
def test_kcc_refuses_bad_values_at_parse_time(argv, expected, nothing_starts, capsys):
    assert cli.main(argv) == 2
    assert expected in capsys.readouterr().err


def test_bench_options_are_checked_at_parse_time(nothing_starts, capsys):
    from reproductions.bench import recipe_defaults as bench_recipe_defaults
    from reproductions.bench import run as bench

    for main, argv, expected in [
        (bench.main, ["--repeats", "0"], "argument --repeats: must be an integer >= 1"),
        (bench.main, ["--seconds", "0"], "argument --seconds: must be a finite number > 0"),
        (bench.main, ["--max-load", "-1"], "argument --max-load: must be a finite number >= 0"),
        (bench_recipe_defaults.main, ["--images", "0"], "argument --images: must be an integer"),
    ]:
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2 and expected in capsys.readouterr().err, argv


TYPES = {  # every argparse type of keras_cnn_course.arguments: a bad value, what is accepted
    "positive_int": (arguments.positive_int, "0", "an integer >= 1"),
    "non_negative_int": (arguments.non_negative_int, "-1", "an integer >= 0"),
    "int_between": (arguments.int_between(1, 5), "six", "an integer in [1, 5]"),
    "positive_float": (arguments.positive_float, "0", "a finite number > 0"),
    "non_negative_float": (arguments.non_negative_float, "nan", "a finite number >= 0"),
}


def parse_error(type_, value, capsys):
    parser = argparse.ArgumentParser(prog="p")
    parser.add_argument("--x", type=type_)
    with pytest.raises(SystemExit):
        parser.parse_args(["--x", value])
    return capsys.readouterr().err


@pytest.mark.parametrize("name", sorted(TYPES))
def test_each_argument_type_names_the_option_the_value_and_what_is_accepted(name, capsys):
    type_, bad, accepted = TYPES[name]
    assert f"argument --x: must be {accepted}, got {bad!r}" in parse_error(type_, bad, capsys)


def test_every_argument_type_is_checked():
    public = {name for name, value in vars(arguments).items() if callable(value)
              and value.__module__ == arguments.__name__ and not name.startswith("_")}
    assert public - {"argument_type"} == set(TYPES)


def test_a_type_refusing_with_a_value_error_keeps_its_message(capsys):
    @arguments.argument_type
    def even(text):
        if int(text) % 2:  # a non-number is int's own ValueError, kept too
            raise ValueError(f"must be an even integer, got {text!r}")
        return int(text)

    assert "argument --x: must be an even integer, got '3'" in parse_error(even, "3", capsys)
    err = parse_error(even, "x", capsys)
    assert "argument --x: invalid literal for int() with base 10: 'x'" in err
    assert "invalid even value" not in err
