"""Length-sorted texts (the claim judge's pairs, the embedder's answers) cut into batches for
the cores. Imports nothing heavy: `order` and `lengths` are numpy arrays.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

# from this many texts one batch is split between the cores; below it one batch on both BLAS
# threads is faster (`benchmarks/devset.py --speed --split-from N` times both ways)
SPLIT_FROM = 12


def even_batches(order: Any, lengths: Any, size: int, side_by_side: int = 1) -> list[Any]:
    """`order` (indexes sorted by their `lengths`) cut into consecutive batches of at most
    `size`, whose padded tokens (rows times the longest) are as even as they can be; more than
    one batch, or SPLIT_FROM texts or more, is aimed at a multiple of `side_by_side` in number
    (fewer where fewer keep the padded tokens as even). No texts, no batches.

    Cores run batches side by side and wait for the slowest: one answer's 20 pairs as 16 and 4
    take as long as 16 would, and two batches of equal rows do not take equally long when one
    holds the longer pairs. A few pairs stay one batch on both cores' BLAS threads, which is
    faster for them than two halves side by side; from SPLIT_FROM on, the halves are faster.
    """
    if not len(order):
        return []
    count = -(-len(order) // size)
    if count > 1 or len(order) >= SPLIT_FROM:
        count = -(-count // side_by_side) * side_by_side
    sizes = [int(n) for n in lengths[order]]

    def cut(most: int) -> list[int]:  # greedy: where batches start when none may exceed `most` tokens
        starts, first = [0], 0
        for i, n in enumerate(sizes):
            if i > first and (i - first + 1 > size or (i - first + 1) * n > most):
                starts.append(i)
                first = i
        return starts

    low, high = max(sizes, default=0), size * max(sizes, default=0)
    while low < high:  # the least padded-token bound that `count` batches can keep to
        middle = (low + high) // 2
        low, high = (low, middle) if len(cut(middle)) <= count else (middle + 1, high)
    starts = [*cut(low), len(order)]
    return [order[a:b] for a, b in pairwise(starts)]
