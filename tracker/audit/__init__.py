"""The audit log: every write recorded, append-only, with who made it and through which interface.

- `models`: the `audit_log` table (`AuditEntry`) and the guards that refuse to change it;
- `context`: who is acting (`acting(Actor(...))`, set where a command, request or job begins);
- `recording`: the flush listener that records ORM writes, and the helpers for Core writes;
- `query`: the filters and the CSV the web's audit page uses.

`tracker.models` imports this package at its end, so the table and the listener are
registered wherever the models are used.
"""

from tracker.audit.context import ANONYMOUS, SCHEDULER, SYSTEM, Actor, acting, current, os_user
from tracker.audit.models import AppendOnly, AuditEntry, Interface
from tracker.audit.recording import ENABLED, enabled, entry_row, insert_rows, record

__all__ = [
    "ANONYMOUS",
    "ENABLED",
    "SCHEDULER",
    "SYSTEM",
    "Actor",
    "AppendOnly",
    "AuditEntry",
    "Interface",
    "acting",
    "current",
    "enabled",
    "entry_row",
    "insert_rows",
    "os_user",
    "record",
]
