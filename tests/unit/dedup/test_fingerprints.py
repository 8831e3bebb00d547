"""Fingerprints: blind to tone-mark style, sharp on content (the same in another process:
tests/integration/dedup/)."""

from aggregator.dedup.fingerprints import (
    BANDS,
    NEAR_DUPLICATE_THRESHOLD,
    NUM_PERM,
    fingerprint,
    similarity,
)
from sampleweb.groundtruth import load_ground_truth, sites_in_ground_truth
from tests.support.factory import STORY_TEXT as TEXT


def test_exact_key_ignores_case_punctuation_and_tone_style() -> None:
    a = fingerprint(TEXT)
    b = fingerprint(TEXT.upper().replace(",", " ,").replace("hóa", "hoá"))
    assert a.exact == b.exact
    assert a.signature == b.signature
    assert fingerprint(TEXT + " Thêm một câu.").exact != a.exact


def test_signature_shape_and_short_texts() -> None:
    fp = fingerprint(TEXT)
    assert len(fp.signature) == 4 * NUM_PERM and len(fp.bands) == BANDS
    short = fingerprint("Tin ngắn một dòng.")
    assert short.signature == b"" and short.bands == () and short.exact


def test_ground_truth_stories_and_hard_negatives() -> None:
    """Copies of a story score above the threshold; everything else far below it."""
    articles = [a for site in sites_in_ground_truth() for a in load_ground_truth(site)]
    prints = {a.key: fingerprint(a.body_text) for a in articles}
    worst_copy, best_other = 1.0, 0.0
    for i, a in enumerate(articles):
        for b in articles[i + 1 :]:
            score = similarity(prints[a.key].signature, prints[b.key].signature)
            if a.story == b.story:
                worst_copy = min(worst_copy, score)
                assert set(prints[a.key].bands) & set(prints[b.key].bands), (a.key, b.key)
            else:
                best_other = max(best_other, score)
                if a.event and a.event == b.event:
                    assert score < 0.2, (a.key, b.key, score)
    assert worst_copy >= NEAR_DUPLICATE_THRESHOLD + 0.1
    assert best_other <= NEAR_DUPLICATE_THRESHOLD - 0.2
