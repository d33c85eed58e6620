"""`kcc compare` and `kcc tables`: documented figures vs our runs, from the command line."""


# A documented study no reproduction runs: the tests check its figures.
TESTED_STUDY = "params"
TESTED_NOTE = ("the documented parameter counts are checked by the tests, not by a run: make test "
               "builds every network and compares its count with each (tests/test_models.py); "
               "kcc models lists the counts")


def register(subparsers):
    compare = subparsers.add_parser(
        "compare", help="print documented vs measured (on your --results-dir: the reference and "
        "yours) and the study's targets; exit 1 if a figure you ran is a miss (on the reference: "
        "a miss or missing)")
    compare.add_argument("study", nargs="?", help="a study of documented.csv (default: every "
                         "study with a results CSV)")
    compare.add_argument("--results-dir", help="where <study>.csv lives (default: results/, the "
                         "package's reference results)")
    compare.set_defaults(func=run_compare)
    tables = subparsers.add_parser(
        "tables", help="regenerate <study>.md, figures and README.md of a results directory (and "
        "the project README's results section when it is the reference, results/)")
    tables.add_argument("studies", nargs="*", help="studies (default: every results CSV)")
    tables.add_argument("--results-dir", help="where <study>.csv lives (default: results/, the "
                        "package's reference results)")
    tables.set_defaults(func=run_tables)


def _studies(args_studies, directory):
    from keras_cnn_course.results.pages import result_studies

    studies = list(args_studies) or result_studies(directory)
    if not studies:
        raise ValueError(f"no results in {directory}: run a reproduction first (e.g. make "
                         "reproduce-mnist) or name a study")
    return studies


def run_compare(args):
    from keras_cnn_course.results.comparison import compare, failing, is_reference
    from keras_cnn_course.results.documented import (QUICK_NOTE, is_quick, load_documented,
                                                     results_dir)
    from keras_cnn_course.results.markdown import comparison_markdown
    from keras_cnn_course.results.targets import study_targets, targets_markdown

    directory, documented = results_dir(args.results_dir), load_documented()
    if args.results_dir and not any(directory.glob("*.csv")):
        what = "holds no results CSV" if directory.is_dir() else "is not a directory"
        raise ValueError(f"--results-dir {args.results_dir}: {what}; give the directory a "
                         "study's last line names (results: DIR/<study>.md), e.g. my_results")
    if args.study == TESTED_STUDY:
        print(f"{TESTED_STUDY}: {TESTED_NOTE}")
        return 0
    exit_code = 0
    for study in _studies([args.study] if args.study else [], directory):
        comparison = compare(study, directory, documented)
        against = "" if is_reference(directory) else (
            f"Yours: {directory}; reference: {results_dir()}\n\n")
        if is_quick(directory):
            against += f"{QUICK_NOTE}\n\n"
        print(f"## {study}\n\n{against}{comparison_markdown(comparison)}")
        print(targets_markdown(study_targets(study, directory, documented), heading="###"))
        exit_code = max(exit_code, int(failing(comparison)))
    return exit_code


def run_tables(args):
    from keras_cnn_course.results.documented import results_dir
    from keras_cnn_course.results.pages import project_readme, write_tables

    directory = results_dir(args.results_dir)
    studies = _studies(args.studies, directory)
    for path in write_tables(studies, directory, readme=project_readme(directory)):
        print(path)
    return 0
