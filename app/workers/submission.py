"""The submission worker: approved HAWBs go to customs, customs' answers become events.

Several workers may run against one PostgreSQL: a claim takes approved HAWBs with
``FOR UPDATE SKIP LOCKED`` and moves them to ``submitting`` in one transaction, so no two
workers hold the same HAWB. On SQLite the writer's lock serialises claims. A worker that
dies holding a claim leaves HAWBs ``submitting``; after the lease another worker submits
them again, and the gateway answers ``duplicate`` for what it already filed.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.accounts.models import Organisation
from app.ace_gateway import filing
from app.ace_gateway.filing import Prepared
from app.ace_gateway.gateway import Gateway, GatewayBusy, GatewayError
from app.ace_gateway.messages import AceMessage, MessageKind
from app.ace_gateway.pages import PageReader
from app.cfs import boards
from app.db import among, transaction, utcnow
from app.events import outbox
from app.events.catalogue import EventType, PermitToTransfer, new_event
from app.lifecycle import brokers, service
from app.lifecycle.service import CUSTOMS, WORKER, Note
from app.lifecycle.transitions import SOURCES, Event
from app.manifest import contexts
from app.manifest.models import Hawb
from app.manifest.statuses import HawbStatus
from app.observability import logs
from app.settings import Settings
from app.workers.threads import start_thread

log = logging.getLogger(__name__)

_BY_KIND = {MessageKind.ACCEPTED: Event.ACCEPT, MessageKind.REJECTED: Event.ACE_REJECT,
            MessageKind.HOLD: Event.HOLD, MessageKind.HOLD_REMOVED: Event.REMOVE_HOLD,
            MessageKind.RELEASED: Event.RELEASE, MessageKind.REFUSED: Event.REFUSE,
            MessageKind.ENTRY_SUMMARY_ACCEPTED: Event.ACCEPT_ENTRY_SUMMARY,
            MessageKind.STATEMENT_PAID: Event.PAY_STATEMENT}


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 200
    poll_limit: int = 2000
    claim_lease_s: float = 300.0
    idle_sleep_s: float = 1.0
    backoff_s: float = 1.0
    backoff_max_s: float = 60.0
    # Per pass, so that a steady stream of approvals never starves the collection of ACE's
    # answers, nor a backlog of answers the submissions.
    batches_per_pass: int = 10
    polls_per_pass: int = 10
    # ``run`` collects ACE's answers on a thread of its own, so that they are applied as
    # they come and not only between rounds of filing (the 200,000-HAWB day waited 733 s
    # at p50 between a filing and its acceptance, which the simulator gives in 0.25 s).
    collector_thread: bool = True


@dataclass
class PassReport:
    auto_approved: int = 0
    submitted: int = 0
    returned: int = 0  # claims given back because customs could not be reached
    incomplete: int = 0  # approved HAWBs that cannot be built: back to the broker
    messages: int = 0
    moved: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return bool(self.submitted or self.messages or self.auto_approved)


class Worker:
    def __init__(self, writer: sessionmaker[Session], gateway: Gateway,
                 config: WorkerConfig | None = None,
                 sleep: Callable[[float], bool] | None = None) -> None:
        self.writer = writer
        self.gateway = gateway
        self.config = config or WorkerConfig()
        self._stop = threading.Event()
        self._sleep = sleep or self._stop.wait
        self._failures = 0
        self._pages = PageReader(gateway)

    # -- one pass -------------------------------------------------------------------------

    def run_once(self, *, collect: bool = True) -> PassReport:
        """Auto-approve, submit what is approved (batch by batch), collect answers."""
        report = PassReport()
        with transaction(self.writer) as session:
            report.auto_approved = brokers.auto_approve(session)
        for _ in range(self.config.batches_per_pass):
            claimed = self._submit_batch(report)
            if claimed < self.config.batch_size or report.errors:
                break
        if collect:
            self._collect(report)
        return report

    def collect_once(self) -> PassReport:
        """Only collect and apply ACE's answers (what the collector thread does)."""
        report = PassReport()
        self._collect(report)
        return report

    def _claim(self, session: Session) -> tuple[dict[int, list[int]], set[int]]:
        """Approved HAWBs and stale claims by approving broker, and the stale ones;
        nothing when submissions are paused."""
        if filing.gateway_state(session, self.gateway.name).paused:
            return {}, set()
        stale = utcnow() - timedelta(seconds=self.config.claim_lease_s)
        rows = session.execute(
            select(Hawb.id, Hawb.broker_id, Hawb.status).where(or_(
                Hawb.status == HawbStatus.APPROVED.value,
                (Hawb.status == HawbStatus.SUBMITTING.value) & (Hawb.claimed_at < stale)))
            .order_by(Hawb.id).limit(self.config.batch_size)
            .with_for_update(skip_locked=True)).all()
        by_broker: defaultdict[int, list[int]] = defaultdict(list)
        for hawb_id, broker_id, _ in rows:
            by_broker[broker_id or 0].append(hawb_id)
        return dict(by_broker), {i for i, _, status in rows
                                 if status == HawbStatus.SUBMITTING.value}

    def _submit_batch(self, report: PassReport) -> int:
        now = utcnow()
        with transaction(self.writer) as session:
            by_broker, stale = self._claim(session)
            prepared: list[Prepared] = []
            filers = [(session.get(Organisation, b), ids) for b, ids in by_broker.items()]
            # Entry number sequences are locked in filer code order: two workers filing for
            # the same brokers never wait on each other in a circle (a deadlock, which the
            # 200,000-HAWB day hit 6 times when each went in its own order).
            filers.sort(key=lambda pair: (pair[0] and pair[0].filer_code) or "")
            for org, ids in filers:
                if org is None or not org.filer_code:
                    service.apply(session, ids, Event.REJECT, WORKER,
                                  reason="The approving broker has no entry filer code.")
                    report.incomplete += len(ids)
                    continue
                built, incomplete = filing.prepare(
                    session, ids, broker_id=org.id, filer_code=org.filer_code,
                    default_importers=brokers.default_importers(session, ids))
                for hawb_id, problem in incomplete.items():
                    service.apply(session, [hawb_id], Event.REJECT, WORKER,
                                  reason=problem.detail)
                report.incomplete += len(incomplete)
                prepared.extend(built)
            claimed = stale | {m.hawb_id for m in service.apply(
                session, [p.hawb_id for p in prepared], Event.CLAIM, WORKER,
                values={"claimed_at": now}).moved}
            # Only what this transaction claimed is sent; stale claims get a fresh lease.
            prepared = [p for p in prepared if p.hawb_id in claimed]
            if stale:
                session.execute(update(Hawb).where(among(session, Hawb.id, stale))
                                .values(claimed_at=now)
                                .execution_options(synchronize_session=False))
        if not prepared:
            return 0
        try:
            receipts = filing.submit(self.gateway, prepared, paused=False)
        except GatewayError as exc:
            self._give_back(prepared, exc)
            report.returned += len(prepared)
            report.errors.append(str(exc))
            with logs.bound(batch_hawbs=len(prepared)):
                self._back_off(exc)
            return len(prepared)
        self._failures = 0
        with transaction(self.writer) as session:
            filing.record_receipts(session, self.gateway.name, prepared, receipts)
            # ACE may already have answered (accepted): those HAWBs are not moved.
            service.apply(session, [p.hawb_id for p in prepared], Event.SUBMIT, WORKER,
                          notes={p.hawb_id: Note(f"entry {p.entry.entry_number} {r.status}",
                                                 r.transaction_id)
                                 for p, r in zip(prepared, receipts, strict=True)})
        report.submitted += len(prepared)
        return len(prepared)

    def _give_back(self, prepared: list[Prepared], exc: GatewayError) -> None:
        with transaction(self.writer) as session:
            service.apply(session, [p.hawb_id for p in prepared], Event.RELEASE_CLAIM, WORKER,
                          reason=f"Customs could not be reached; will retry: {exc}")

    def _back_off(self, exc: GatewayError) -> None:
        self._failures += 1
        if isinstance(exc, GatewayBusy):
            delay = exc.retry_after
        else:
            ceiling = min(self.config.backoff_max_s,
                          self.config.backoff_s * 2 ** (self._failures - 1))
            delay = random.uniform(ceiling / 2, ceiling)
        log.warning("customs gateway: %s; next attempt in %.1f s", exc, delay)
        self._sleep(delay)

    def _collect(self, report: PassReport) -> None:
        for _ in range(self.config.polls_per_pass):
            try:
                with transaction(self.writer) as session:
                    got = filing.collect(session, self.gateway, self.config.poll_limit,
                                         read=self._pages.read)
                    if got is None:
                        return  # another worker is collecting
                    report.moved += self._apply(session, [i for i in got if i.new])
            except GatewayError as exc:
                report.errors.append(str(exc))
                return
            report.messages += sum(1 for item in got if item.new)
            if len(got) < self.config.poll_limit:
                return

    @classmethod
    def _apply(cls, session: Session, items: list[filing.Collected]) -> int:
        """Apply a batch of answers, set-based, keeping each HAWB's answers in order.

        Answers about different HAWBs commute; a MAWB's permit to transfer does not (it
        moves every HAWB of the MAWB), so the batch is cut at each permit into segments.
        Within a segment, each HAWB's answers in order are one chain, and all chains move
        at once (service.apply_chains: ACE answers a Type 11's acceptance, entry summary and
        payment back to back, three moves of a HAWB that become one). HAWBs whose status
        the table does not take through their whole chain are then applied round by round:
        round k the k-th answer about each of them, at once whatever their events
        (service.apply_many), as many statements as the most answers one has."""
        moved = 0
        rounds: list[dict[int, service.Step]] = []

        def flush() -> None:
            nonlocal moved
            chains: dict[int, list[service.Step]] = {}
            for steps in rounds:
                for hawb_id, step in steps.items():
                    chains.setdefault(hawb_id, []).append(step)
            outcomes, left = service.apply_chains(session, chains, CUSTOMS)
            moved += cls._after_moves(session, outcomes, {})
            for steps in rounds:
                rest = [step for hawb_id, step in steps.items() if hawb_id in left]
                if rest:
                    moved += cls._apply_wave(session, rest)
            rounds.clear()

        count: dict[int, int] = {}
        for item in items:
            message = item.message
            if message.kind is MessageKind.PERMIT_TO_TRANSFER:
                flush()
                count.clear()
                moved += cls._permit(session, item)
                continue
            event = _BY_KIND.get(message.kind)
            if event is None or item.hawb_id is None:
                continue  # PGA answers are recorded in the audit; no status changes
            k = count.get(item.hawb_id, 0)
            count[item.hawb_id] = k + 1
            if k == len(rounds):
                rounds.append({})
            reason = "; ".join(f"[{e.code}] {e.message}" for e in message.errors) or (
                message.narrative or None)
            rounds[k][item.hawb_id] = service.Step(item.hawb_id, event,
                                                   Note(reason, message.message_id),
                                                   _detail(message) or None)
        flush()
        return moved

    @classmethod
    def _apply_wave(cls, session: Session, steps: list[service.Step]) -> int:
        outcomes = service.apply_many(session, steps, CUSTOMS)
        return cls._after_moves(session, outcomes, {s.hawb_id: s.note for s in steps})

    @staticmethod
    def _after_moves(session: Session, outcomes: dict[Event, service.Outcome],
                     notes: dict[int, Note]) -> int:
        """HAWBs released at a CFS that has their MAWB are received there; refusals are
        logged. The number of moves."""
        released = outcomes.get(Event.RELEASE)
        if released is not None and released.moved:
            boards.receive_released(session, released.moved)
        for event, outcome in outcomes.items():
            for hawb_id, status in outcome.refused.items():
                log.info("ACE message %s (%s) does not apply to HAWB %s in status %s",
                         notes[hawb_id].source_message_id, event.value, hawb_id, status)
        return sum(len(o.moved) for o in outcomes.values())

    @staticmethod
    def _permit(session: Session, item: filing.Collected) -> int:
        message = item.message
        if item.manifest_id is None:
            return 0
        ids = list(session.scalars(select(Hawb.id).where(
            Hawb.manifest_id == item.manifest_id,
            Hawb.status.in_(SOURCES[Event.PERMIT_TO_TRANSFER]))))
        moved = service.apply(session, ids, Event.PERMIT_TO_TRANSFER, CUSTOMS,
                              source_message_id=message.message_id,
                              reason=message.narrative or None).moved
        ctx = contexts.of(session, [item.manifest_id])[item.manifest_id]
        outbox.write(session, [(new_event(
            EventType.PERMIT_TO_TRANSFER,
            PermitToTransfer(hawbs=len(moved), source_message_id=message.message_id),
            occurred_at=utcnow(), mawb=ctx.mawb, hawb=None, port=ctx.port, cfs=ctx.cfs,
            carrier=None), ctx)])
        return len(moved)

    # -- running ----------------------------------------------------------------------------

    def run(self) -> None:
        """Until stopped: a pass, then a short sleep when there was nothing to do; with
        ``collector_thread``, the answers are collected by a second loop meanwhile."""
        separate = self.config.collector_thread
        collector = start_thread(self._run_collector, "ace-collector") if separate else None
        self._loop(lambda: self.run_once(collect=not separate), "submission worker")
        if collector is not None:
            collector.join()
        self._pages.close()

    def _run_collector(self) -> None:
        self._loop(self.collect_once, "ACE answer collector")

    def _loop(self, one_pass: Callable[[], PassReport], what: str) -> None:
        while not self._stop.is_set():
            with logs.bound(worker_pass=logs.new_id()):
                try:
                    report = one_pass()
                except Exception:
                    log.exception("%s pass failed; retrying", what)
                    self._sleep(self.config.backoff_s)
                    continue
            if not report.busy:
                self._sleep(self.config.idle_sleep_s)

    def stop(self) -> None:
        self._stop.set()


def _detail(message: AceMessage) -> dict[str, Any]:
    """The payload fields a Type 11 answer adds to its event."""
    if message.kind is MessageKind.ENTRY_SUMMARY_ACCEPTED:
        return {"entry_number": message.entry_number, "total_cents": message.amount_cents}
    if message.kind is MessageKind.STATEMENT_PAID:
        return {"entry_number": message.entry_number,
                "statement_number": message.statement_number,
                "amount_cents": message.amount_cents}
    return {}


def config_from(settings: Settings) -> WorkerConfig:
    return WorkerConfig(batch_size=settings.worker_batch_size,
                        idle_sleep_s=settings.worker_idle_sleep_s,
                        claim_lease_s=settings.worker_claim_lease_s)


def start_worker(writer: sessionmaker[Session], gateway: Gateway, settings: Settings
                 ) -> Worker:
    """A worker on a daemon thread (the embedded default runs it in the API process)."""
    worker = Worker(writer, gateway, config_from(settings))
    start_thread(worker.run, "submission-worker")
    return worker
