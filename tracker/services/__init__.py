"""Domain operations: each takes the session first and never commits.

The caller owns the unit of work (`with session_factory.begin() as session:`), so a
failed operation is rolled back with everything else the command did.
"""

from __future__ import annotations

from tracker.rules import (
    check_deadline,
    check_email,
    check_evidence,
    check_identifier,
    check_kind,
    check_probability,
    check_role,
    check_source_kind,
    check_tag,
    check_timezone,
    check_url,
    check_verdict,
)
from tracker.services.agreement import review_pairs, reviewer_agreement
from tracker.services.claims import (
    STATUS_FILTERS,
    add_claim,
    assign,
    list_claims,
    revise_criteria,
    unassign,
)
from tracker.services.deadlines import deadline_passed, is_overdue, local_today
from tracker.services.editing import Criteria, Edited, edit_claim
from tracker.services.lookup import did_you_mean, get_claim, get_reviewer, get_source
from tracker.services.people import (
    add_reviewer,
    add_source,
    claim_counts,
    edit_reviewer,
    edit_source,
    list_reviewers,
    list_sources,
    set_subscribed,
)
from tracker.services.resolutions import adjudicate, record_progress, resolve, unresolve

__all__ = [
    "STATUS_FILTERS",
    "Criteria",
    "Edited",
    "add_claim",
    "add_reviewer",
    "add_source",
    "adjudicate",
    "assign",
    "check_deadline",
    "check_email",
    "check_evidence",
    "check_identifier",
    "check_kind",
    "check_probability",
    "check_role",
    "check_source_kind",
    "check_tag",
    "check_timezone",
    "check_url",
    "check_verdict",
    "claim_counts",
    "deadline_passed",
    "did_you_mean",
    "edit_claim",
    "edit_reviewer",
    "edit_source",
    "get_claim",
    "get_reviewer",
    "get_source",
    "is_overdue",
    "list_claims",
    "list_reviewers",
    "list_sources",
    "local_today",
    "record_progress",
    "resolve",
    "review_pairs",
    "reviewer_agreement",
    "revise_criteria",
    "set_subscribed",
    "unassign",
    "unresolve",
]
