"""Who belongs to whom among the sources: an outlet's people, and the order pages are read in.

An outlet is counted together with its people everywhere: on its page, in its index row,
in `tracker scores` and in the periodic report. All of them take the people from
`Family.members`, read a family members first (`groups`), hold the members' records in
`MemberRecords` until their outlet comes, and add them up with `with_members`, so that
they can never disagree about who is counted with whom.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Container, Iterable, Sequence

from tracker.scorecards.data import Records, SourceRecord
from tracker.scorecards.manifest import digest

__all__ = ["Family", "MemberRecords", "Records", "with_members"]


def with_members(own: Records, members: Records | None) -> Records:
    """An outlet's records together with its people's (`members`, from `MemberRecords.take`)."""
    if members is None:
        return own
    return [*own[0], *members[0]], [*own[1], *members[1]], [*own[2], *members[2]]


class Family:
    """Members of each source, and the relatives a page names."""

    def __init__(self, sources: Sequence[SourceRecord]) -> None:
        self.by_id = {s.id: s for s in sources}
        self.members: dict[int, list[SourceRecord]] = defaultdict(list)
        for s in sources:  # already in slug order
            if s.parent_id is not None and s.parent_id != s.id and s.parent_id in self.by_id:
                self.members[s.parent_id].append(s)

    def parent(self, source: SourceRecord) -> SourceRecord | None:
        """The source this one belongs to, if any."""
        if source.parent_id is None or source.parent_id == source.id:
            return None
        return self.by_id.get(source.parent_id)

    def meta(self, source: SourceRecord, parent_has_page: bool) -> str:
        """A hash of what the page shows about the source and its relatives, beyond its own claims."""
        parent = self.parent(source)
        relatives = [f"{m.id}:{m.slug}:{m.name}:{m.revision}" for m in self.members.get(source.id, ())]
        return digest(
            source.slug,
            source.name,
            source.kind,
            source.url or "",
            source.notes or "",
            f"{parent.slug}:{parent.name}:{parent_has_page}" if parent else "",
            *relatives,
        )

    def groups(self, ids: Iterable[int]) -> list[list[int]]:
        """`ids` in families, each a list with every source right after its members.

        Walking from the top of each family keeps a family together, so the members'
        records wait in memory only until their outlet comes, a few sources later.
        """
        wanted = set(ids)

        def is_top(i: int) -> bool:
            parent = self.parent(self.by_id[i])
            return parent is None or parent.id not in wanted

        groups: list[list[int]] = []
        done: set[int] = set()
        by_slug = sorted(wanted, key=lambda i: self.by_id[i].slug)
        # Tops first; a membership cycle has none, so its sources come in a second pass.
        for root in [i for i in by_slug if is_top(i)] + by_slug:
            group: list[int] = []
            stack: list[tuple[int, bool]] = [(root, False)]
            on_path: set[int] = set()
            while stack:
                node, expanded = stack.pop()
                if node in done:
                    continue
                if expanded:
                    done.add(node)
                    group.append(node)
                    continue
                on_path.add(node)  # guards against a membership cycle
                stack.append((node, True))
                for m in reversed(self.members.get(node, ())):
                    if m.id in wanted and m.id not in done and m.id not in on_path:
                        stack.append((m.id, False))
            if group:
                groups.append(group)
        return groups

    def children_first(self, ids: Iterable[int]) -> list[int]:
        """`ids` with every source right after its members (the families of `groups`, joined)."""
        return [i for group in self.groups(ids) for i in group]

    def units(self, ids: Iterable[int], size: int) -> list[list[int]]:
        """`ids` cut into units of about `size` sources, never splitting a family."""
        units: list[list[int]] = []
        unit: list[int] = []
        for group in self.groups(ids):
            unit.extend(group)
            if len(unit) >= size:
                units.append(unit)
                unit = []
        if unit:
            units.append(unit)
        return units


class MemberRecords:
    """People's scoring records, held until their outlet is read (`groups` puts members first)."""

    def __init__(self, family: Family, outlets: Container[int]) -> None:
        self.family = family
        self.outlets = outlets  # the outlets whose people's records are wanted
        self.pending: dict[int, Records] = {}

    def add(self, source: SourceRecord, records: Records) -> None:
        """Note a source's records for its outlet, when that outlet is wanted."""
        parent = self.family.parent(source)
        if parent is None or parent.id not in self.outlets:
            return
        held = self.pending.get(parent.id)
        if held is None:
            held = self.pending[parent.id] = ([], [], [])
        for mine, theirs in zip(held, records, strict=True):
            mine.extend(theirs)  # type: ignore[attr-defined]

    def take(self, outlet_id: int) -> Records | None:
        """The records of an outlet's people read so far (None: none), forgotten once taken."""
        return self.pending.pop(outlet_id, None)
