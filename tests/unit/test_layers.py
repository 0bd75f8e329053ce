"""Layer efficiency, dive's way, on hand-made layers."""

from graders.layers import Entry, efficiency


def test_overwritten_and_deleted_files():
    report = efficiency([
        [Entry("a", 10), Entry("d", 0, True), Entry("d/x", 5)],
        [Entry("a", 12), Entry("d", 0, True), Entry("d/.wh.x", 0)],
        [Entry("b", 3)],
    ])
    assert report.wasted_bytes == 10 + 12 + 5  # both copies of a; x, then its whiteout (0)
    assert report.per_layer == [15, 12, 0]
    assert report.offenders[0] == ("a", 2, 22)


def test_a_deleted_folder_counts_only_if_it_was_a_leaf_before():
    nested = efficiency([[Entry("d", 0, True), Entry("d/x", 7)], [Entry(".wh.d", 0)]])
    assert nested.wasted_bytes == 0  # as dive: the folder was not a leaf in the first layer
    empty_then_filled = efficiency([[Entry("e", 0, True)], [Entry("e/y", 4)], [Entry(".wh.e", 0)]])
    assert empty_then_filled.wasted_bytes == 4  # 'e' was a leaf, then a whiteout sized by what it held


def test_opaque_folder_hides_what_was_below():
    report = efficiency([[Entry("d", 0, True), Entry("d/x", 5)], [Entry("d", 0, True), Entry("d/.wh..wh..opq", 0), Entry("d/x", 6)]])
    assert report.wasted_bytes == 11 and report.score == 5 / 11


def test_no_waste_scores_one():
    report = efficiency([[Entry("a", 1)], [Entry("b", 2)]])
    assert (report.wasted_bytes, report.score, report.offenders) == (0, 1.0, [])
