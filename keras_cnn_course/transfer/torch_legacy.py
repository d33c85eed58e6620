"""Read a legacy (pre-zip, torch < 1.6) `torch.save`d state dict with numpy, without torch.

Layout of such a file: three small pickles (magic number, protocol version, system info), the
pickled state dict whose tensors point at storages by persistent id ('storage', type, key,
location, numel, view) and are rebuilt by `torch._utils._rebuild_tensor_v2`, a pickled list of
storage keys, then each storage as an int64 element count followed by its raw little-endian data.

Only the names a state dict needs can be unpickled (`RestrictedUnpickler.find_class`); any other
global (a function, a class with side effects) raises `pickle.UnpicklingError`.
"""

import collections
import io
import pickle

import numpy as np

MAGIC_NUMBER = 0x1950A86A20F9469CFC6C
PROTOCOL_VERSION = 1001
STORAGE_DTYPES = {
    "DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2", "LongStorage": "<i8",
    "IntStorage": "<i4", "ShortStorage": "<i2", "CharStorage": "i1", "ByteStorage": "u1",
    "BoolStorage": "?",
}


class StorageType:
    """Stand-in for `torch.FloatStorage` and friends: only remembers the element type."""

    def __init__(self, name):
        self.name, self.dtype = name, np.dtype(STORAGE_DTYPES[name])


class Storage:
    """A storage declared by the pickle; its bytes are filled in after the pickles."""

    def __init__(self, key, dtype, numel):
        self.key, self.dtype, self.numel, self.data = key, dtype, numel, None


class TensorRef:
    """What `_rebuild_tensor_v2` returns here: a view (offset, size, stride) into a storage."""

    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def to_numpy(self):
        data, size, stride = self.storage.data, tuple(self.size), tuple(self.stride)
        last = self.offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else -1
        if self.offset < 0 or min(stride, default=0) < 0 or last >= len(data):
            raise pickle.UnpicklingError(f"tensor view {size}/{stride} exceeds its storage")
        view = np.lib.stride_tricks.as_strided(
            data[self.offset:], size, [s * data.itemsize for s in stride], writeable=False)
        return np.array(view)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    if not isinstance(storage, Storage):
        raise pickle.UnpicklingError("a tensor must refer to a storage")
    return TensorRef(storage, int(storage_offset), tuple(size), tuple(stride))


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles a state dict and nothing else."""

    def __init__(self, file, storages):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module, name):
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise pickle.UnpicklingError(f"{module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 6 and pid[0] == "storage"
                and isinstance(pid[1], StorageType) and pid[5] is None):
            raise pickle.UnpicklingError(f"unsupported persistent id {pid!r:.80}")
        _, storage_type, key, _location, numel, _view = pid
        storage = self.storages.setdefault(key, Storage(key, storage_type.dtype, int(numel)))
        if storage.dtype != storage_type.dtype:
            raise pickle.UnpicklingError(f"storage {key} declared with two element types")
        return storage


def load_state_dict(data):
    """Parse the bytes of a legacy torch file into an OrderedDict of name -> numpy array."""
    file, storages = io.BytesIO(data), {}

    def load():
        return RestrictedUnpickler(file, storages).load()

    if load() != MAGIC_NUMBER or load() != PROTOCOL_VERSION:
        raise pickle.UnpicklingError("not a legacy torch file (magic number or protocol differs)")
    if not load().get("little_endian", False):
        raise pickle.UnpicklingError("big-endian torch files are not supported")
    state = load()
    keys = load()
    if not isinstance(state, dict) or sorted(keys) != sorted(storages):
        raise pickle.UnpicklingError("the storage list does not match the state dict")
    for key in keys:
        storage = storages[key]
        numel = int.from_bytes(file.read(8), "little")
        raw = file.read(numel * storage.dtype.itemsize)
        if numel != storage.numel or len(raw) != numel * storage.dtype.itemsize:
            raise pickle.UnpicklingError(f"storage {key} is truncated or has the wrong size")
        storage.data = np.frombuffer(raw, storage.dtype)
    if file.read(1):
        raise pickle.UnpicklingError("unexpected bytes after the last storage")
    if not all(isinstance(tensor, TensorRef) for tensor in state.values()):
        raise pickle.UnpicklingError("a state dict entry is not a tensor")
    return collections.OrderedDict((name, t.to_numpy()) for name, t in state.items())
