"""`kcc figures`: write the lecture's figures (filters, sliding window, receptive fields,
max-pool invariance, and a trained MNIST net's feature maps and first-layer filters)."""

import time
from pathlib import Path

from keras_cnn_course.arguments import non_negative_int, positive_int

IMAGE_FIGURES = ("sobel", "gabor", "sliding", "receptive_field", "invariance")
MODEL_FIGURES = ("feature_maps", "filters")


def register(subparsers):
    parser = subparsers.add_parser(
        "figures", help="write the lecture's figures (PNG) to a directory",
        description="Write the figures of the lecture notes. The feature-map and filter figures "
                    "use --model (a saved Keras model with Conv2D layers taking 28x28x1 images); "
                    "without it a small net is trained for one epoch on part of MNIST (about a "
                    "minute) and the figure titles say so.")
    parser.add_argument("--out", default="results/figures", help="output directory")
    parser.add_argument("--model", help="saved Keras model (.keras) for the MNIST figures")
    parser.add_argument("--only", nargs="+", choices=IMAGE_FIGURES + MODEL_FIGURES,
                        help="write only these figures")
    parser.add_argument("--train-images", type=positive_int, default=10_000,
                        help="training images for the stand-in net when --model is not given")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed for the stand-in net")
    parser.set_defaults(func=run)


def _stand_in_model(splits, num_images, seed):
    """Nielsen's one conv-pool net with ReLU, trained for one epoch on the first images."""
    import keras

    from keras_cnn_course.models import get_model

    keras.utils.set_random_seed(seed)
    (x, y), (x_test, y_test) = splits.train, splits.test
    model = get_model("nielsen_basic_conv", activation="relu")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:num_images, ..., None] / 255.0, y[:num_images], batch_size=64, epochs=1, verbose=2)
    _, accuracy = model.evaluate(x_test[..., None] / 255.0, y_test, verbose=0)
    note = (f"\n(stand-in net {model.name}, ReLU: 1 epoch on {num_images:,} images, "
            f"test accuracy {accuracy:.2%}; pass --model for a fully trained net)")
    return model, note


def run(args):
    from keras_cnn_course import plots
    from keras_cnn_course.lecture import figures, filters

    names = args.only or IMAGE_FIGURES + MODEL_FIGURES
    if args.model and not Path(args.model).is_file():
        raise FileNotFoundError(f"--model {args.model}: no such file; save a model with "
                                f"model.save('net.keras') or omit --model to train a stand-in.")
    out, started = Path(args.out), time.perf_counter()
    image = filters.sample_image()
    makers = {"sobel": lambda: figures.sobel_figure(image),
              "gabor": lambda: figures.gabor_figure(image),
              "sliding": figures.sliding_figure,
              "receptive_field": figures.receptive_field_figure,
              "invariance": lambda: figures.invariance_figure(image)}
    if any(name in MODEL_FIGURES for name in names):
        from keras_cnn_course.data import load_mnist
        from keras_cnn_course.models import load_model

        splits = load_mnist()
        if args.model:
            model = load_model(args.model, compile=False)  # the forward pass is enough
            note = f"\n({model.name}, from {args.model})"
        else:
            model, note = _stand_in_model(splits, args.train_images, args.seed)
        digit = splits.test[0][0] / 255.0
        makers["feature_maps"] = lambda: figures.feature_maps_figure(model, digit, note)
        makers["filters"] = lambda: figures.first_layer_filters_figure(model, note)
    for name in names:
        print(plots.save(makers[name](), out / f"{name}.png", dpi=100, tight=False))
    print(f"{len(names)} figures in {time.perf_counter() - started:.1f} s")
    return 0
