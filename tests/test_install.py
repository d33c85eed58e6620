"""The package as a user installs it: the built wheel's metadata (one TensorFlow distribution for
every choice of extras) and the installed wheel at work outside the clone."""

import io
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from keras_cnn_course import notices

ROOT = Path(__file__).resolve().parents[1]
# Distributions that install the `tensorflow` module: two of them overwrite each other's files.
TENSORFLOW = re.compile(r"^(tensorflow|tensorflow[-_](cpu|gpu|intel|macos|aarch64|rocm)|"
                        r"intel[-_]tensorflow|tf[-_]nightly.*)$", re.IGNORECASE)
PLATFORMS = {  # the markers' environments: Colab and a GPU box, a Mac, ARM Linux, Windows
    "linux x86_64": {"sys_platform": "linux", "platform_machine": "x86_64",
                     "platform_system": "Linux"},
    "linux aarch64": {"sys_platform": "linux", "platform_machine": "aarch64",
                      "platform_system": "Linux"},
    "macOS arm64": {"sys_platform": "darwin", "platform_machine": "arm64",
                    "platform_system": "Darwin"},
    "windows AMD64": {"sys_platform": "win32", "platform_machine": "AMD64",
                      "platform_system": "Windows"},
}
NOTICE = re.compile(r"absl::InitializeLog|cpu_feature_guard|oneDNN custom operations|"
                    r"cuda drivers|cuInit")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel built from a copy of the clone's sources (no network, no build isolation)."""
    build = tmp_path_factory.mktemp("build")
    skip = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info", "build", "tests",
                                  "docs", "figures", "histories", "predictions", "checkpoints",
                                  "my_results", "runs", "scratch")
    shutil.copytree(ROOT, build / "src", ignore=skip)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "--no-index", "--wheel-dir", str(build / "dist"),
                    str(build / "src")], check=True, timeout=120)
    [path] = (build / "dist").glob("keras_cnn_course-*.whl")
    return path


@pytest.fixture(scope="module")
def metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        [name] = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def tensorflow_distributions(requirements, extras, environment):
    """The TensorFlow distributions `requirements` install with `extras` on `environment`."""
    names = set()
    for requirement in requirements:
        wanted = requirement.marker is None or any(
            requirement.marker.evaluate({**environment, "extra": extra}) for extra in
            extras or [""])
        if wanted and TENSORFLOW.match(requirement.name):
            names.add(requirement.name.lower().replace("_", "-"))
    return names


def test_every_choice_of_extras_installs_one_tensorflow_distribution(metadata):
    requirements = [Requirement(text) for text in metadata.get_all("Requires-Dist")]
    extras = metadata.get_all("Provides-Extra")
    assert {"and-cuda", "gpu", "dev"} <= set(extras)
    for platform, environment in PLATFORMS.items():
        for count in range(len(extras) + 1):
            for chosen in itertools.combinations(extras, count):
                found = tensorflow_distributions(requirements, chosen, environment)
                assert found == {"tensorflow"}, (platform, chosen, found)
    cuda = [req for req in requirements if req.name == "tensorflow" and "and-cuda" in req.extras]
    assert [str(req.marker) for req in cuda] == ['extra == "and-cuda"', 'extra == "gpu"']


def test_the_wheel_says_its_pythons_licence_and_repository(wheel, metadata):
    from packaging.specifiers import SpecifierSet

    pythons = SpecifierSet(metadata["Requires-Python"])
    assert {"3.10", "3.13"} <= set(pythons.filter(["3.9", "3.10", "3.13", "3.14"])) == {
        "3.10", "3.13"}  # TensorFlow 2.21 ships wheels for 3.10-3.13
    assert metadata["Home-page"] == "https://github.com/keras-cnn-course/keras_cnn_course"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        licence = next(name for name in names if name.endswith(".dist-info/LICENSE"))
        assert archive.read(licence).decode().startswith("MIT License")
    for path in (ROOT / "keras_cnn_course").rglob("*"):  # every source file and data file
        if path.is_file() and "__pycache__" not in path.parts:
            assert path.relative_to(ROOT).as_posix() in names
    reference = {f"keras_cnn_course/reference/{path.name}" for path in
                 (ROOT / "results").glob("*.csv")}
    assert len(reference) >= 4 and reference <= names  # the reference results, from results/


def test_tensorflow_notices_are_dropped_and_everything_else_kept():
    lines = [
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
        b"I0000 00:00:1796628478.067008   20091 cudart_stub.cc:31] Could not find cuda drivers on "
        b"your machine, GPU will not be used.\n",
        b"I0000 00:00:1796628478.763389   20091 cpu_feature_guard.cc:227] This TensorFlow binary "
        b"is optimized to use available CPU instructions in performance-critical operations.\n",
        b"To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow "
        b"with the appropriate compiler flags.\n",
        b"E0000 00:00:1796628494.069761   20091 cuda_platform.cc:52] failed call to cuInit: "
        b"INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
        b"I0000 00:00:1796628478.1   20091 port.cc:153] oneDNN custom operations are on.\n",
        b"E0000 00:00:1796638311.036662   29426 node_def_util.cc:682] NodeDef mentions attribute "
        b"use_unbounded_threadpool which is not in the op definition: Op<name=MapDataset; ...> "
        b"This may be expected if your graph generating binary is newer  than this binary.\n",
    ]
    kept = [b"Traceback (most recent call last):\n", b"kcc figures: --model x: no such file\n",
            b"E0000 00:00:1796628494.069761   20091 op_kernel.cc:1] OOM when allocating\n",
            b"  12%|###       | 3/25 [00:01<00:08]\r"]
    read, write = os.pipe()
    os.write(write, b"".join([*lines, *kept]))
    os.close(write)
    sink = io.BytesIO()
    notices.NoticeFilter().forward(read, sink)
    os.close(read)
    assert sink.getvalue() == b"".join(kept)
    on_a_gpu_machine = notices.NoticeFilter()  # a failed cuInit with a driver is a real error
    assert on_a_gpu_machine.keep(lines[4])


def photo(path):
    """The espresso of the EfficientNet reference fixture as a PNG."""
    import numpy as np
    from PIL import Image

    with np.load(ROOT / "tests" / "fixtures" / "efficientnet_lite0_reference.npz") as data:
        index = [source.endswith("coffee.png") for source in data["sources"]].index(True)
        Image.fromarray(data["images"][index]).save(path)
    return path


# Commands in one process (TensorFlow loads once), as `kcc ARGS` runs them; the exit codes last.
DRIVER = """
import json, sys
from keras_cnn_course import cli
codes = []
for argv in json.loads(sys.argv[1]):
    for stream in (sys.stdout, sys.stderr):
        print(f"=== kcc {' '.join(argv)}", file=stream, flush=True)
    codes.append(cli.main(argv))
print("=== codes " + json.dumps(codes), flush=True)
"""


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """run(*kcc arguments) with the wheel installed into a scratch directory, from another
    directory, without the clone: (exit code, stdout, stderr); in one process with driver=True."""
    site, elsewhere = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("elsewhere")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
                    "--target", str(site), str(wheel)], check=True, timeout=120)
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("KCC_ROOT", "TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    environment["PYTHONPATH"] = str(site)

    def run(*arguments, driver=False, **extra_environment):
        command = ([sys.executable, "-c", DRIVER, json.dumps(arguments)] if driver else
                   [str(site / "bin" / "kcc"), *arguments])  # the console script
        done = subprocess.run(command, cwd=elsewhere, env=environment | extra_environment,
                              capture_output=True, text=True, timeout=600)
        return done.returncode, done.stdout, done.stderr

    run.site, run.elsewhere = site, elsewhere
    return run


def by_command(text):
    """{command name: what it printed} from the driver's `=== kcc NAME ...` sections."""
    return dict(re.findall(r"=== kcc (\w+)[^\n]*\n(.*?)(?==== |\Z)", text, re.DOTALL))


def test_the_installed_package_is_the_one_imported(installed):
    from keras_cnn_course import __version__

    code, out, err = installed("--version")
    assert (code, out) == (0, f"kcc {__version__}\n"), err
    done = subprocess.run([sys.executable, "-c", "import keras_cnn_course; "
                           "print(keras_cnn_course.__file__)"], cwd=installed.elsewhere,
                          env={**os.environ, "PYTHONPATH": str(installed.site)},
                          capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == str(installed.site / "keras_cnn_course" / "__init__.py")


def test_the_installed_package_compares_against_its_packaged_reference(installed):
    code, out, err = installed("compare", "nielsen_mnist")
    assert code == 0 and out.startswith("## nielsen_mnist") and "| match |" in out, err
    code, out, err = installed(["tables"], ["reproduce", "nielsen_mnist"], driver=True)
    assert json.loads(out.split("=== codes ")[1]) == [2, 2], err
    errors = by_command(err)
    assert "reference installed with the package" in errors["tables"]  # read only
    clone_line = errors["reproduce"].strip()
    assert "\n" not in clone_line and "kcc reproduce nielsen_mnist" in clone_line
    assert "git clone https://github.com/keras-cnn-course/keras_cnn_course" in clone_line


def test_the_installed_kcc_drops_tensorflows_start_up_notices(installed):
    code, out, err = installed("figures", "--only", "sobel", "--out", "figs")  # loads TensorFlow
    assert code == 0 and (installed.elsewhere / "figs" / "sobel.png").is_file(), err
    assert not NOTICE.search(err), err


@pytest.mark.slow
@pytest.mark.data
def test_the_installed_package_lists_fetches_classifies_and_tabulates(installed):
    from keras_cnn_course.models.efficientnet_lite import random_network
    from keras_cnn_course.transfer import weights

    try:
        cache = weights.imagenet_weights_path(timeout=120, build_model=random_network).parent
    except ConnectionError as error:
        pytest.skip(f"kcc classify needs the EfficientNet-Lite0 weights: {error}")
    coffee = photo(installed.elsewhere / "coffee.png")
    mine = installed.elsewhere / "mine"
    mine.mkdir()
    shutil.copy(ROOT / "results" / "mnist1d.csv", mine)  # a student's runs
    code, out, err = installed(["models"], ["data"], ["classify", str(coffee)],
                               ["tables", "--results-dir", "mine"], driver=True,
                               KCC_CACHE_DIR=str(cache))
    assert json.loads(out.split("=== codes ")[1]) == [0, 0, 0, 0], err
    printed = by_command(out)
    assert "lenet5" in printed["models"] and "mnist: verified" in printed["data"]
    assert printed["classify"].splitlines()[1].split()[:2] == ["1.", "espresso"]
    page = (mine / "mnist1d.md").read_text()  # three-way: yours beside the packaged reference
    assert "reference: mean ± std" in page and (mine / "README.md").is_file()
    assert not list((installed.site / "keras_cnn_course" / "reference").glob("*.md"))


def test_kcc_reproduce_in_the_clone_runs_the_study_module(monkeypatch, capsys):
    from keras_cnn_course import cli, reproduce_commands

    ran = []
    monkeypatch.setattr(reproduce_commands.subprocess, "run", lambda command, **options: (
        ran.append((command, options["cwd"])) or subprocess.CompletedProcess(command, 0)))
    assert cli.main(["reproduce", "mnist1d", "--quick", "--rows", "cnn"]) == 0
    assert ran == [([sys.executable, "-m", "reproductions.mnist1d", "--quick", "--rows", "cnn"],
                    ROOT)]
    assert cli.main(["reproduce", "mnist"]) == 2
    err = capsys.readouterr().err
    assert "STUDY 'mnist' is not a study of" in err and "'nielsen_mnist'" in err
    assert "'bench'" in err and "'transfer'" in err
