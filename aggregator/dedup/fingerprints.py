"""Content fingerprints for deduplication across runs and sites: pure functions.

Two keys per article, both kept in the store so that they survive restarts and
cost no memory that grows with the archive:

- an exact fingerprint: SHA-1 of the folded body words (one tone-mark placement,
  lowercase, punctuation and spacing ignored), for the same text under another URL;
- a MinHash signature of word 3-gram shingles, cut into LSH bands whose hashes are
  indexed in the store, for near-duplicates such as a wire story republished with
  a changed lead or a dropped paragraph.

Signatures use one-permutation hashing (Li, Owen & Zhang 2012) with rotation
densification (Shrivastava & Li 2014): each shingle is hashed once and the minimum
is kept per bin, which estimates Jaccard similarity like a classic MinHash with as
many permutations at a fraction of the cost (about 25 µs for 650 shingles here,
against about 300 µs for 128 multiply-shift permutations and more for datasketch's
SHA-1 MinHash, whose LSH index also lives in memory). Token hashes are CRC-32 and
the mixing constants fixed, so signatures are the same in every process (Python's
``hash()`` is salted per process).
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from aggregator.normalize.text import fold

__all__ = [
    "BANDS",
    "NEAR_DUPLICATE_THRESHOLD",
    "NUM_PERM",
    "Fingerprint",
    "band_hashes",
    "band_matrix",
    "exact_key",
    "fingerprint",
    "similarity",
]

NUM_PERM = 128  # bins of the one-permutation hash = signature length
#: LSH bands of ROWS signature values each (the first BANDS * ROWS values): two texts are
#: compared when one band agrees, with probability 1 - (1 - J**3)**20 at Jaccard J:
#: 0.85 / 0.93 / 0.99 at 0.45 / 0.5 / 0.6 (32 bands of 4: 0.74 / 0.87 / 0.988), with
#: 20 index seeks a lookup instead of 32, the cost that grows with the archive.
BANDS = 20
ROWS = 3
#: Estimated Jaccard similarity of shingle sets above which two texts are one story.
#: Wire copies with a rephrased lead and a dropped paragraph score 0.6-1.0 on the
#: sample web; different articles on one event (same names, places, numbers) and
#: unrelated articles stay under 0.2.
NEAR_DUPLICATE_THRESHOLD = 0.45
SHINGLE = 3
#: Fewer shingles than this: too short to call a near-duplicate (exact match only).
MIN_SHINGLES = 20

_PUNCTUATION = "\"'“”‘’«»()[]{}<>.,;:!?…–—-/\\|*•·"
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9], dtype=np.uint64)
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_BIN_SHIFT = np.uint64(64 - (NUM_PERM.bit_length() - 1))
_LOW32 = np.uint64(0xFFFFFFFF)
_EMPTY = np.uint64(1 << 32)
_BAND_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SIGNED = np.uint64(2**63 - 1)
_BIN_INDEX = np.arange(NUM_PERM)
#: what each band's hash is mixed with: the same rows in two bands differ
_BAND_OFFSET = np.arange(BANDS, dtype=np.uint64) * _MIX[0]


@dataclass(frozen=True)
class Fingerprint:
    """Dedup keys of one text."""

    exact: str  # hex SHA-1 of the folded words' hashes
    signature: bytes  # NUM_PERM little-endian uint32 MinHash values, or b"" if too short
    bands: tuple[int, ...]  # one signed 63-bit hash per LSH band (empty if no signature)


def _fold_word(raw: str) -> str:
    """One lowercase word as matching sees it: no punctuation around it, one tone style."""
    return fold(raw.strip(_PUNCTUATION), clean=False)


#: Hash of each word seen as written (-1: punctuation only). Vietnamese is written in a
#: few thousand syllables, so this stays small (it is emptied when names and numbers
#: fill it); lowercasing, folding and stripping happen once per distinct word. Each
#: worker process has its own: about 160 bytes a word, so at most ~8 MB a worker.
_TOKEN_HASHES: dict[str, int] = {}
_TOKEN_CACHE_MAX = 50_000


def _token_hashes(text: str) -> npt.NDArray[np.uint64]:
    """CRC-32 of every word of a clean text, folded for matching."""
    words = text.split()
    values = list(map(_TOKEN_HASHES.get, words))
    if None in values:
        if len(_TOKEN_HASHES) >= _TOKEN_CACHE_MAX:
            _TOKEN_HASHES.clear()
        for i, w in enumerate(words):
            if values[i] is None:
                folded = _fold_word(w.lower())
                values[i] = _TOKEN_HASHES[w] = zlib.crc32(folded.encode()) if folded else -1
    array = np.array(values, dtype=np.int64)
    return array[array >= 0].astype(np.uint64)


def _shingle_hashes(t: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    if len(t) < SHINGLE:
        return np.empty(0, dtype=np.uint64)
    # repeated shingles need no removal: they cannot change a minimum
    return t[:-2] * _MIX[0] + t[1:-1] * _MIX[1] + t[2:] * _MIX[2]


def _mix64(h: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    """splitmix64's finalizer: every output bit depends on every input bit."""
    h = h ^ (h >> np.uint64(31))
    h *= _M1
    h ^= h >> np.uint64(29)
    h *= _M2
    h ^= h >> np.uint64(32)
    return h


def _minhash(shingles: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint32]:
    """One-permutation MinHash: top bits pick the bin, the low 32 bits compete in it."""
    h = _mix64(shingles.copy())
    sig = np.full(NUM_PERM, _EMPTY, dtype=np.uint64)
    np.minimum.at(sig, (h >> _BIN_SHIFT).astype(np.intp), h & _LOW32)
    filled = np.flatnonzero(sig != _EMPTY)
    if len(filled) < NUM_PERM:
        # rotation densification: an empty bin takes the next filled bin's value,
        # offset by the distance so that two texts agree only where both would
        nxt = np.searchsorted(filled, _BIN_INDEX) % len(filled)
        dist = (filled[nxt] - _BIN_INDEX) % NUM_PERM
        donor = sig[filled[nxt]]
        sig = np.where(sig == _EMPTY, (donor + dist.astype(np.uint64) * _MIX[0]) & _LOW32, sig)
    return sig.astype(np.uint32)


def exact_key(fp: Fingerprint) -> int:
    """The exact fingerprint as a signed 63-bit integer (a compact index key)."""
    return int(fp.exact[:16], 16) & (2**63 - 1)


def band_hashes(signature: bytes) -> tuple[int, ...]:
    """The LSH band hashes of a stored signature (empty for an empty one)."""
    if not signature:
        return ()
    return _band_hashes(np.frombuffer(signature, dtype="<u4"))


def _band_hashes(signature: npt.NDArray[np.uint32]) -> tuple[int, ...]:
    return tuple(band_matrix(signature.reshape(1, -1))[0].tolist())


def band_matrix(signatures: npt.NDArray[np.uint32]) -> npt.NDArray[np.int64]:
    """The LSH band hashes of many signatures at once (one row each)."""
    rows = signatures[:, : BANDS * ROWS].astype(np.uint64).reshape(-1, BANDS, ROWS)
    h = np.zeros(rows.shape[:2], dtype=np.uint64)
    for r in range(ROWS):
        h = (h ^ rows[:, :, r]) * _BAND_MIX + np.uint64(r + 1)
    h ^= _BAND_OFFSET
    return (h & _SIGNED).astype(np.int64)


def fingerprint(body_text: str) -> Fingerprint:
    """Exact and near-duplicate keys of an article body (text from clean_text)."""
    tokens = _token_hashes(body_text)
    exact = hashlib.sha1(tokens.astype("<u4").tobytes()).hexdigest()
    shingles = _shingle_hashes(tokens)
    if len(shingles) < MIN_SHINGLES:
        return Fingerprint(exact, b"", ())
    signature = _minhash(shingles)
    return Fingerprint(exact, signature.astype("<u4").tobytes(), _band_hashes(signature))


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of two signatures (0.0 if either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    sa = np.frombuffer(a, dtype="<u4")
    sb = np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(sa == sb)) / len(sa)
