"""Run an agent service by name: what `quantdesk agent <name>` and `python -m
agents.services <name>` both call. Imports only what the chosen service needs, so risk,
monitor and data start in about two seconds."""

from __future__ import annotations

from core.settings import Settings
from core.store import Store

NAMES = ("execution", "risk", "monitor", "data", "all")


def run_agent(name: str, settings: Settings) -> None:
    from agents.services.runtime import open_bus, run_together

    if name not in NAMES:
        raise ValueError(f"unknown agent {name!r}; choose one of {', '.join(NAMES)}")
    if name in ("execution", "all"):
        from agents.services.execution_service import ExecutionService

        with Store.open(settings) as store:
            execution = ExecutionService.open(settings, open_bus(settings, hub=True), store)
            if name == "execution":
                execution.run()
                return
            from agents.services.data_service import DataService
            from agents.services.monitor_service import MonitorService
            from agents.services.risk_service import RiskService

            others = [
                kind(settings, open_bus(settings, hub=False))
                for kind in (RiskService, MonitorService, DataService)
            ]
            run_together([execution, *others], settings.metrics_port)
        return
    if name == "risk":
        from agents.services.risk_service import RiskService

        RiskService(settings, open_bus(settings, hub=False)).run()
    elif name == "monitor":
        from agents.services.monitor_service import MonitorService

        MonitorService(settings, open_bus(settings, hub=False)).run()
    else:
        from agents.services.data_service import DataService

        DataService(settings, open_bus(settings, hub=False)).run()
