"""``engine.batch.groups``: rows grouped by their columns' values, through an array of the keys where
their span is small (most of a warm-up's calls) and through a sort of the rows where it is not."""

from __future__ import annotations

import numpy as np
import pytest

from liqtui.engine.batch import groups


def _reference(*columns) -> tuple[list[int], list[int]]:
    """One row at a time: each new value tuple opens a group at its row."""
    first, group, seen = [], [], {}
    for row, key in enumerate(zip(*(c.tolist() for c in columns), strict=True)):
        if key not in seen:
            seen[key] = len(first)
            first.append(row)
        group.append(seen[key])
    return first, group


@pytest.mark.parametrize(
    "spans",
    [
        (16,),  # a batch's markets
        (16, 2, 3),  # realized: market, side, second
        (16, 2, 300, 2),  # the heatmap: market, bucket, row, side (a span of 19,200 keys)
        (10**7, 10**6),  # sparse: through np.unique
        (2**40, 2**30),  # over 2**62 together: through np.unique of the stacked columns
    ],
)
@pytest.mark.parametrize("rows", [0, 1, 7, 1_070, 16_384])
def test_groups_match_one_row_at_a_time(spans, rows):
    rng = np.random.default_rng(rows + len(spans))
    columns = [rng.integers(0, span, rows) + (1_769_860_800 if span == 3 else 0) for span in spans]
    first, group = groups(*columns)
    assert (first, group.tolist()) == _reference(*columns)
