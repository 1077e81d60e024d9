"""The claims file (claims.yaml): read, validate, import and export.

- `reader` streams the YAML with line numbers;
- `schema` says what a valid entry is and locates every problem;
- `writer` upserts validated entries in bulk;
- `importer` ties them into one transaction; `exporter` writes the format back;
- `merge` updates an existing file in place of rewriting it, keeping its comments and style.
"""

from __future__ import annotations

from tracker.claimsfile.exporter import export_claims, update_claims_file, write_claims_file
from tracker.claimsfile.importer import import_claims
from tracker.claimsfile.writer import ImportReport

__all__ = ["ImportReport", "export_claims", "import_claims", "update_claims_file", "write_claims_file"]
