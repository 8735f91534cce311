"""Vectorised string building on numpy StringDType arrays: no Python loop over rows."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

TEXT = np.dtypes.StringDType()

Builder = Callable[[np.ndarray], np.ndarray]  # row positions -> one string per position


def text_array(values: Sequence[str]) -> np.ndarray:
    return np.array(values, dtype=TEXT)


def slugs(values: Sequence[str]) -> np.ndarray:
    """Lower-case ASCII letters/digits only, for handles ("D'Souza" -> "dsouza")."""
    return text_array([re.sub(r"[^a-z0-9]", "", v.lower()) for v in values])


def concat(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of arrays and scalars."""
    out = np.asarray(parts[0], dtype=TEXT)
    for part in parts[1:]:
        out = np.strings.add(out, part)
    return out


def pick(rng: np.random.Generator, words: np.ndarray, n: int) -> np.ndarray:
    """``n`` words drawn uniformly, with replacement."""
    return words[rng.integers(0, len(words), n)]


def build_styles(style: np.ndarray, builders: Sequence[Builder]) -> np.ndarray:
    """out[i] = builders[style[i]](...)[i], computing each style only on its own subset.

    (Not np.choose: it corrupts long StringDType strings in numpy 2.4.)
    """
    out = np.empty(style.size, dtype=TEXT)
    for code, build in enumerate(builders):
        positions = np.flatnonzero(style == code)
        if positions.size:
            out[positions] = build(positions)
    return out


def random_styles(
    rng: np.random.Generator, n: int, probs: Sequence[float], builders: Sequence[Builder]
) -> np.ndarray:
    """Pick a style per row with the given probabilities, then build each style's strings."""
    style = rng.choice(len(probs), size=n, p=np.asarray(probs) / np.sum(probs))
    return build_styles(style, builders)


def make_unique(
    rng: np.random.Generator, values: np.ndarray, words: np.ndarray | None = None
) -> np.ndarray:
    """Give later repeats a suffix until all strings are distinct.

    Suffixes are ``words`` (one round, e.g. " Trio") when given, then digits ("priya.sharma_42").
    """
    values = values.copy()
    for attempt in range(1000):
        _, first = np.unique(values, return_index=True)
        repeat = np.ones(values.size, dtype=bool)
        repeat[first] = False
        n_repeats = int(repeat.sum())
        if not n_repeats:
            return values
        if words is not None and attempt == 0:
            suffix = pick(rng, words, n_repeats)
        else:
            separators = text_array([" "] if words is not None else ["", "_", "."])
            separator = pick(rng, separators, n_repeats)  # drawn before the number
            suffix = concat(separator, rng.integers(1, 1_000, n_repeats).astype(TEXT))
        values[repeat] = concat(values[repeat], suffix)
    raise RuntimeError("could not make strings unique")
