"""How often double reviewers agree: the plain share, and Cohen's kappa per verdict scale.

A `ReviewPair` is one claim's double review (its current round): the two verdicts and who
gave them. Kappa corrects the share for the agreement two reviewers would reach by chance
given how often each uses each verdict; it is computed per scale (a prediction's "true" and
a fact's "true" are different categories) and comes with its n.

Kappa treats the first and the second verdict as two raters, as Cohen's statistic does;
the reviewers behind each position vary from claim to claim (Fleiss' would model that, but
with two verdicts per claim the figures are close and Cohen's is the one asked for).
Undefined cases are None, never a made-up number: no pairs, or both positions using a
single verdict only (chance agreement is 1, so kappa is 0/0).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReviewPair:
    """One claim's two blind verdicts, on the scale of its kind."""

    key: str
    scale: str  # the claim's kind: prediction, fact, promise
    first: str
    second: str
    first_by: str
    second_by: str

    @property
    def agreed(self) -> bool:
        return self.first == self.second


@dataclass(frozen=True, slots=True)
class Share:
    """Of n double-reviewed claims, how many the verdicts agreed on."""

    n: int
    agreed: int

    @property
    def share(self) -> float | None:
        return self.agreed / self.n if self.n else None


@dataclass(frozen=True, slots=True)
class Kappa:
    scale: str
    n: int
    kappa: float | None


@dataclass(frozen=True, slots=True)
class Agreement:
    overall: Share
    reviewers: dict[str, Share]  # by handle: the double reviews they gave either verdict of
    kappas: tuple[Kappa, ...]  # one per scale that has pairs, in the order given


def share_of(pairs: Iterable[ReviewPair]) -> Share:
    pairs = list(pairs)
    return Share(len(pairs), sum(p.agreed for p in pairs))


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels for the same items; None when undefined."""
    if len(first) != len(second):
        raise ValueError("the two raters must label the same items")
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (n * n)
    if expected == 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def agreement(pairs: Iterable[ReviewPair], scales: Sequence[str]) -> Agreement:
    """The agreement figures of these double reviews; kappas for `scales` that have pairs."""
    pairs = list(pairs)
    handles = sorted({p.first_by for p in pairs} | {p.second_by for p in pairs})
    reviewers = {h: share_of(p for p in pairs if h in (p.first_by, p.second_by)) for h in handles}
    kappas = []
    for scale in scales:
        on_scale = [p for p in pairs if p.scale == scale]
        if on_scale:
            kappa = cohen_kappa([p.first for p in on_scale], [p.second for p in on_scale])
            kappas.append(Kappa(scale, len(on_scale), kappa))
    return Agreement(share_of(pairs), reviewers, tuple(kappas))
