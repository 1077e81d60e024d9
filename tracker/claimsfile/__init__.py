"""The claims file (claims.yaml): read, validate, import and export.

- `reader` streams the YAML with line numbers;
- `schema` says what a valid entry is and locates every problem;
- `writer` upserts validated entries in bulk;
- `importer` ties them into one transaction; `exporter` writes the format back.
"""

from __future__ import annotations

from tracker.claimsfile.exporter import export_claims, write_claims_file
from tracker.claimsfile.importer import import_claims
from tracker.claimsfile.writer import ImportReport

__all__ = ["ImportReport", "export_claims", "import_claims", "write_claims_file"]
