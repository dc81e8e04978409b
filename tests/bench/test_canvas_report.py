"""bench.canvas_report: the confusion summary counts each source's mistakes, commonest first."""

from __future__ import annotations

from bench.canvas_report import Case, confusions


def case(source: str, label: int, answer: int | None) -> Case:
    return Case(source, 0, label, None, {"m": answer})


def test_confusions_count_mistakes_per_source_commonest_first() -> None:
    # Listed in the opposite order to the expected one, so the order below comes from the sorting.
    cases = [case("usps", 4, None), case("usps", 4, 9), case("usps", 1, 7)] + [case("usps", 8, 9)] * 2
    cases += [case("usps", 5, 3)] * 3 + [case("usps", 5, 5)] * 10 + [case("uci", 8, 1)] * 4  # right; another source
    # Ties: by the true digit, then the answer, an empty answer last.
    assert confusions(cases, "m", "usps") == "5 → 3 ×3, 8 → 9 ×2, 1 → 7 ×1, 4 → 9 ×1, 4 → empty ×1"
    assert confusions(cases, "m", "usps", top=2) == "5 → 3 ×3, 8 → 9 ×2"
    assert confusions(cases, "m", "uci") == "8 → 1 ×4"
    assert confusions(cases, "m", "mnist-test") == "none"
