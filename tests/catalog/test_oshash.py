"""catalog.oshash gives pan.do/ra's hash bit for bit, and reads only the two ends."""

import io
import os
import random
import warnings
from pathlib import Path

import pytest

from catalog.oshash import CHUNK_SIZE, EMPTY_FILE_OSHASH, oshash, oshash_of_open_file

HOME_OX = Path.home() / ".ox"
HOME_OX_EXISTED = HOME_OX.exists()


@pytest.fixture(scope="module")
def ox(tmp_path_factory):
    """The reference implementation, with its cache (created on import) in a temp dir."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("oxCACHE", str(tmp_path_factory.mktemp("ox-cache")))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # ox's own chardet import
            import ox
        yield ox


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


SIZES = [
    *range(1, 8),
    8,
    13,
    4096,
    65535,
    65536,
    65537,
    70000,
    100003,
    131071,
    131072,
    131073,
    3 * 1024 * 1024 + 5,
]


@pytest.mark.parametrize("size", SIZES)
def test_matches_ox_on_random_bytes(ox, tmp_path, size):
    path = write(tmp_path / "file", random.Random(size).randbytes(size))
    assert oshash(path) == ox.oshash(str(path), cached=False)


def test_empty_file(ox, tmp_path):
    path = write(tmp_path / "empty", b"")
    assert oshash(path) == EMPTY_FILE_OSHASH == ox.oshash(str(path), cached=False)


@pytest.mark.parametrize("size", range(1, 8))
def test_files_under_8_bytes_hash_to_their_size(tmp_path, size):
    assert oshash(write(tmp_path / "a", b"\xff" * size)) == f"{size:016x}"
    assert oshash(write(tmp_path / "b", b"\x01" * size)) == f"{size:016x}"


@pytest.mark.parametrize("size", [64, 65536, 200_000])
def test_sum_wraps_modulo_2_64_like_ox(ox, tmp_path, size):
    # All-ones words overflow the sum on every addition.
    path = write(tmp_path / "ones", b"\xff" * size)
    assert oshash(path) == ox.oshash(str(path), cached=False)


def test_matches_ox_on_many_random_sizes(ox, tmp_path):
    rng = random.Random(2024)
    for _ in range(40):
        size = rng.randrange(0, 3 * CHUNK_SIZE)
        path = write(tmp_path / f"f{size}", rng.randbytes(size))
        assert oshash(path) == ox.oshash(str(path), cached=False), size


def test_sparse_multi_gigabyte_file(ox, tmp_path):
    path = tmp_path / "sparse.bin"
    size = 3 * 1024**3
    with open(path, "wb") as fileobj:
        fileobj.truncate(size)
        fileobj.write(b"head of the file, " * 100)
        fileobj.seek(size - 1000)
        fileobj.write(b"and its tail" * 80)
    assert os.path.getsize(path) == size
    assert oshash(path) == ox.oshash(str(path), cached=False)


class CountingReader(io.BytesIO):
    """A file that records how much is read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0
        self.reads = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        self.reads += 1
        return data


def test_reads_only_the_first_and_last_64_kib(ox, tmp_path):
    data = random.Random(7).randbytes(5 * 1024 * 1024)
    reader = CountingReader(data)
    digest = oshash_of_open_file(reader, len(data))
    assert reader.bytes_read == 2 * CHUNK_SIZE
    assert reader.reads == 2
    assert digest == ox.oshash(str(write(tmp_path / "f", data)), cached=False)


def test_small_file_reads_only_whole_words():
    reader = CountingReader(b"x" * 13)
    oshash_of_open_file(reader, 13)
    assert reader.bytes_read == 8


def test_a_file_shorter_than_its_size_is_an_error():
    # The file shrank between stat and read: a silent short read would give a wrong hash.
    with pytest.raises(OSError, match="ended at byte"):
        oshash_of_open_file(io.BytesIO(b"x" * 70_000), 200_000)


def test_short_reads_are_completed(ox, tmp_path):
    data = random.Random(3).randbytes(150_000)

    class Trickle(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            return super().read(min(size, 1000) if size and size > 0 else size)

    expected = ox.oshash(str(write(tmp_path / "f", data)), cached=False)
    assert oshash_of_open_file(Trickle(data), len(data)) == expected


def test_accepts_path_objects_and_strings(tmp_path):
    path = write(tmp_path / "f", b"0123456789abcdef")
    assert oshash(path) == oshash(str(path))


def test_ox_cache_stays_out_of_the_home_directory(ox, tmp_path):
    ox.oshash(str(write(tmp_path / "f", b"data")), cached=False)
    assert ox.cache.cache_path() != str(HOME_OX / "cache")
    if not HOME_OX_EXISTED:
        assert not HOME_OX.exists()
