"""Run an agent service by name: what `quantdesk agent <name>` and `python -m
agents.services <name>` both call. Imports only what the chosen service needs, so risk,
monitor and data start in about two seconds."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.settings import Settings
from core.store import Store

if TYPE_CHECKING:
    import threading

    from agents.desk import Desk
    from agents.services.runtime import ServiceGroup

NAMES = ("execution", "risk", "monitor", "data", "all")


def run_agent(name: str, settings: Settings) -> None:
    from agents.services.runtime import open_bus, run_together

    if name not in NAMES:
        raise ValueError(f"unknown agent {name!r}; choose one of {', '.join(NAMES)}")
    if name in ("execution", "all"):
        from agents.services.execution_service import ExecutionService

        with Store.open(settings) as store:
            execution = ExecutionService.open(settings, store)
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


def host_services(settings: Settings, desk: Desk, lock: threading.RLock) -> ServiceGroup:
    """Execution, risk, monitor and data on threads of this process, around a desk that
    something else (the PM graph under `quantdesk serve`) also drives: execution serves that
    desk's gateway under its lock, so the graph's orders reach risk like any other. Started;
    close the group to stop them."""
    from agents.services.data_service import DataService
    from agents.services.execution_service import ExecutionService
    from agents.services.monitor_service import MonitorService
    from agents.services.risk_service import RiskService
    from agents.services.runtime import Service, ServiceGroup, open_bus
    from core.bus import Keys
    from core.llm.budget import on_usage

    services: list[Service] = [ExecutionService(settings, desk, lock)]
    try:
        services += [
            kind(settings, open_bus(settings, hub=False))
            for kind in (RiskService, MonitorService, DataService)
        ]
        # This process makes the PM's LLM calls: their usage goes on the bus for the monitor.
        hub_bus = services[0].bus
        stop_usage = on_usage(lambda usage: hub_bus.publish(Keys.LLM_USAGE, usage))
        group = ServiceGroup(services, on_close=[stop_usage])
        group.start()
    except BaseException:
        for service in reversed(services):
            service.close()
        raise
    return group
