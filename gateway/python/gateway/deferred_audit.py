"""Audit rows no money waits on (the PM's decision on each turn), kept off the caller's path.

A one-row insert into the audit log's MergeTree costs 4-14 ms on chdb (a new part each time);
a commit to the safety journal's SQLite WAL costs a fraction of a millisecond and survives
`kill -9` as well. So such a row is journaled at once and a writer thread moves what is held
into the audit log soon after, several rows in one insert when turns come fast. Whoever reads
the log through the desk host, a closing gateway and a restarted one write what is held first.
A row the log already has (the process died between the insert and the release) is not
written twice: the first write of each process checks the event ids.
"""

from __future__ import annotations

import logging
import threading

from core.faults import crash_point
from core.models.audit import AuditEvent
from core.store import AuditLog
from gateway.journal import SafetyJournal

log = logging.getLogger(__name__)


class DeferredAudit:
    def __init__(
        self,
        journal: SafetyJournal,
        audit: AuditLog,
        store_lock: threading.RLock,
        gather_s: float = 1.0,
    ) -> None:
        self.journal = journal
        self.audit = audit
        self.store_lock = store_lock
        self.gather_s = gather_s
        """How long the writer waits after a row arrives, so a burst becomes one insert."""
        self._check_written = True
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._started = threading.Lock()

    def put(self, event: AuditEvent) -> None:
        """Journal `event` (durable when this returns) and wake the writer."""
        self.journal.hold_audit(event.model_dump_json())
        crash_point("decision.journaled")
        with self._started:
            if self._writer is None and not self._stop.is_set():
                self._writer = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._writer.start()
        self._wake.set()

    def settle(self) -> int:
        """Write every held row into the audit log now; returns how many were written."""
        with self.store_lock:
            held = self.journal.held_audit()
            if not held:
                return 0
            events = [AuditEvent.model_validate_json(raw) for _, raw in held]
            if self._check_written:
                events = self._not_in_log(events)
            # Until the release, the rows may be in the log and the journal both.
            self._check_written = True
            self.audit.append(events)
            crash_point("decision.written")
            self.journal.release_audit(held[-1][0])
            self._check_written = False
            return len(events)

    def _not_in_log(self, events: list[AuditEvent]) -> list[AuditEvent]:
        written = self.audit.written_ids([e.event_id for e in events])
        return [e for e in events if e.event_id not in written]

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.wait(self.gather_s):
                return
            self._wake.clear()
            try:
                self.settle()
            except Exception:  # held rows stay journaled; the next wake or close retries
                log.exception("could not write the held audit rows; they stay journaled")

    def close(self) -> None:
        """Stop the writer and write what is still held."""
        with self._started:
            self._stop.set()
            writer, self._writer = self._writer, None
        self._wake.set()
        if writer is not None:
            writer.join(timeout=10)
        self.settle()
