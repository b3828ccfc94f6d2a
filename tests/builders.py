"""Shared test builders: exports as leadq reads them, built in code (never imported from a test file)."""

from __future__ import annotations

import pandas as pd

from pipelines.crm_export.mapping import ExportMapping, load_mapping
from pipelines.crm_export.prepare import LoadedExport
from pipelines.crm_export.read import RawExport
from pipelines.settings import DEMO_MAPPING


def demo_mapping() -> ExportMapping:
    """The shipped mapping of the synthetic CRM."""
    return load_mapping(DEMO_MAPPING)


def loaded_export(
    leads: pd.DataFrame,
    mapping: ExportMapping,
    dispositions: pd.DataFrame | None = None,
    deals: pd.DataFrame | None = None,
) -> LoadedExport:
    """An export as ``read_export_files`` would return it, from frames."""
    tables = {name: frame for name, frame in (("dispositions", dispositions), ("deals", deals)) if frame is not None}
    return LoadedExport(mapping, RawExport(leads, None, None), tables)


def synthetic_export(crm, mapping: ExportMapping | None = None) -> LoadedExport:  # type: ignore[no-untyped-def]
    """A generated synthetic CRM (``pipelines.demo.synthetic.SyntheticCRM``) read through its shipped mapping."""
    return loaded_export(crm.leads, mapping or demo_mapping(), crm.dispositions, crm.deals)
