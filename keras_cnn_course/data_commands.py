"""`kcc data`: fetch and verify every data set the package provides.

Kept outside `keras_cnn_course.data`, whose import loads TensorFlow, so that `kcc --help` stays fast.
"""

import time


def register(subparsers):
    parser = subparsers.add_parser("data", help="fetch and verify MNIST, MNIST-1D and the TFDS copy")
    parser.add_argument("--cache-dir", help="package cache directory (default: $KCC_CACHE_DIR or"
                        " ~/.cache/keras_cnn_course)")
    parser.add_argument("--tfds-data-dir", help="TFDS data directory (default: TFDS's own)")
    parser.set_defaults(func=run)


def run(args):
    from keras_cnn_course import data

    start = time.perf_counter()
    splits = data.load_mnist(args.cache_dir)
    sizes = ", ".join(f"{name} {len(split[1]):,}" for name, split in zip(splits._fields, splits))
    print(f"mnist: verified against the canonical sha256 ({sizes})")
    arrays = data.load_mnist1d(cache_dir=args.cache_dir)
    print(f"mnist1d: train {len(arrays['y']):,}, test {len(arrays['y_test']):,}")
    builder = data.prepare_tfds(args.tfds_data_dir, args.cache_dir)
    print(f"tfds nielsen_mnist: prepared in {builder.data_dir}")
    print(f"done in {time.perf_counter() - start:.1f} s (cache: {data.cache_dir(args.cache_dir)})")
    return 0
