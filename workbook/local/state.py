"""What every handler of one server process shares: the store, the keys, the faults, the log."""

from __future__ import annotations

from dataclasses import dataclass, field

from workbook.local.faults import Faults, RequestLog
from workbook.local.store import Store
from workbook.local.table_cache import TableCache


@dataclass
class ServerState:
    store: Store
    project_id: str
    api_key: str = field(repr=False)
    schema_delay: float = 0.05
    extra_keys: dict[str, list[str]] = field(default_factory=dict, repr=False)
    faults: Faults = field(default_factory=Faults)
    log: RequestLog = field(default_factory=RequestLog)
    tables: TableCache = field(default_factory=TableCache)
