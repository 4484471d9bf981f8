"""The run's invariants, checked against the parts themselves, and its figures.

- every HAWB reached a final status;
- every HAWB that went to customs was filed exactly once (the simulator's own count per
  entry number), and every entry number the service holds was filed;
- every informal entry (Type 11) whose summary ACE accepted was paid exactly once, on one
  daily statement, for its duty and fees; each statement's count and total are its
  entries'; the service's statements are the simulator's, entry for entry;
- every outbox event is on Kafka at least once, and exactly once after de-duplication by
  event id, with nothing on Kafka that the outbox does not hold;
- every HAWB's history is a chain of moves the transition table allows, ending at its
  current status.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import Engine, text

from app.lifecycle.transitions import TABLE
from app.manifest.statuses import HawbStatus as S
from app.tariff.pricing import TYPE_11
from bench.day.traffic import PORT_SHARES

RELEASED = (S.RELEASED, S.RECEIVED_AT_CFS, S.HANDED_TO_CARRIER)
# Released, or finally refused: after a hold or by an agency, rejected by ACE (the day has
# no corrections), or routed to formal entry (Type 01, or nothing else to do).
FINAL = (*RELEASED, S.REFUSED, S.ACE_REJECTED, S.FORMAL_ENTRY)
JUDGED = (S.ELIGIBLE, S.NEEDS_REVIEW, S.INELIGIBLE)
# Statuses a HAWB reaches only once its entry was sent to customs.
FILED = (S.SUBMITTED, S.ACCEPTED, S.ENTRY_SUMMARY_ACCEPTED, S.DUTY_PAID,
         S.PERMIT_TO_TRANSFER, S.HOLD, *RELEASED, S.REFUSED, S.ACE_REJECTED)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Progress:
    hawbs: int
    final: int
    unsent_events: int

    @property
    def done(self) -> bool:
        return self.hawbs > 0 and self.final == self.hawbs and self.unsent_events == 0


def progress(engine: Engine) -> Progress:
    with engine.connect() as conn:
        hawbs, final = conn.execute(text(
            "SELECT count(*), count(*) FILTER (WHERE status = ANY(:final)) FROM hawbs"),
            {"final": [s.value for s in FINAL]}).one()
        unsent = conn.execute(text("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
                              ).scalar_one()
    return Progress(hawbs, final, unsent)


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT status, count(*) FROM hawbs GROUP BY status ORDER BY 2 DESC")).all())


def pricing(engine: Engine) -> dict[str, dict[str, int]]:
    """HAWBs by entry type and by duty status (``none``: not priced)."""
    with engine.connect() as conn:
        def by(column: str) -> dict[str, int]:
            return {str(k): int(n) for k, n in conn.execute(text(
                f"SELECT coalesce({column}, 'none'), count(*) FROM hawbs GROUP BY 1 "
                "ORDER BY 2 DESC"))}
        return {"entry_types": by("entry_type"), "duty_statuses": by("duty_status")}


def _filed_once(engine: Engine, simulator_url: str) -> Check:
    filings = httpx.get(f"{simulator_url}/v1/control/filings", timeout=60).json()
    counts: dict[str, int] = filings["filings"]
    with engine.connect() as conn:
        entries = set(conn.scalars(text("SELECT entry_number FROM ace_entries")))
        unfiled_approved = conn.execute(text(
            "SELECT count(*) FROM hawbs h WHERE h.status = ANY(:filed) AND NOT EXISTS ("
            " SELECT 1 FROM ace_entries e WHERE e.hawb_id = h.id)"),
            {"filed": [s.value for s in FILED]}).scalar_one()
    twice = {n: c for n, c in counts.items() if c != 1}
    never = entries - counts.keys()
    unknown = counts.keys() - entries
    ok = not twice and not never and not unknown and not unfiled_approved
    return Check("filed exactly once (counted at the simulator)", ok,
                 f"{len(counts):,} entry numbers filed, {len(twice)} more than once, "
                 f"{len(never)} held by the service but never filed, {len(unknown)} filed "
                 f"but unknown to the service, {unfiled_approved} filed HAWBs without an "
                 f"entry; {filings['submissions']:,} submissions reached the simulator "
                 f"(duplicates answered 'duplicate')")


def simulator_payments(simulator_url: str) -> dict[str, tuple[str, int]]:
    """What ACE says it was paid: entry number -> (statement number, cents)."""
    answer = httpx.get(f"{simulator_url}/v1/control/statements", timeout=60).json()
    return {entry: (st["number"], cents) for st in answer["statements"]
            for entry, cents in st["entries"].items()}


_PAID = """
WITH summaries AS (
  SELECT DISTINCT entry_number FROM ace_messages
  WHERE direction = 'received' AND kind = 'entry_summary_accepted'),
payments AS (
  SELECT entry_number, count(*) AS n FROM ace_messages
  WHERE direction = 'received' AND kind = 'statement_paid' GROUP BY entry_number),
paid AS (
  SELECT p.entry_number, p.amount_cents, h.id AS hawb_id,
         coalesce(h.duty_cents, 0) + coalesce(h.fees_cents, 0) AS owed
  FROM ace_statement_entries p
  LEFT JOIN ace_entries e ON e.entry_number = p.entry_number
  LEFT JOIN hawbs h ON h.id = e.hawb_id),
events AS (
  SELECT hawb_id, count(*) AS n FROM hawb_history WHERE event = 'pay_statement'
  GROUP BY hawb_id)
SELECT
  (SELECT count(*) FROM summaries) AS summaries,
  (SELECT count(*) FROM paid) AS paid,
  (SELECT count(*) FROM summaries s WHERE NOT EXISTS (
     SELECT 1 FROM paid p WHERE p.entry_number = s.entry_number)) AS unpaid,
  (SELECT count(*) FROM payments WHERE n > 1) AS paid_twice,
  (SELECT count(*) FROM paid p WHERE NOT EXISTS (
     SELECT 1 FROM summaries s WHERE s.entry_number = p.entry_number)) AS paid_unaccepted,
  (SELECT count(*) FROM paid WHERE hawb_id IS NULL OR amount_cents <> owed) AS amount_off,
  (SELECT count(*) FROM ace_statements s LEFT JOIN (
     SELECT statement_number, count(*) AS n, sum(amount_cents) AS cents
     FROM ace_statement_entries GROUP BY statement_number) t USING (statement_number)
   WHERE s.entries <> coalesce(t.n, 0) OR s.total_cents <> coalesce(t.cents, 0))
     AS statements_off,
  (SELECT count(*) FROM ace_statement_entries p WHERE NOT EXISTS (
     SELECT 1 FROM ace_statements s WHERE s.statement_number = p.statement_number))
     AS without_statement,
  (SELECT count(*) FROM ace_statements) AS statements,
  (SELECT coalesce(sum(total_cents), 0) FROM ace_statements) AS total_cents,
  (SELECT count(*) FROM paid p LEFT JOIN events v ON v.hawb_id = p.hawb_id
   WHERE v.n IS DISTINCT FROM 1) AS applied_off,
  (SELECT count(*) FROM hawbs h JOIN ace_entries e ON e.hawb_id = h.id
   WHERE h.entry_type = :informal AND h.status = ANY(:released) AND NOT EXISTS (
     SELECT 1 FROM paid p WHERE p.entry_number = e.entry_number)) AS released_unpaid
"""


def paid_once(engine: Engine, ace: dict[str, tuple[str, int]]) -> Check:
    """Each duty paid once: ``ace`` is the simulator's ledger (`simulator_payments`)."""
    with engine.connect() as conn:
        row = conn.execute(text(_PAID), {"informal": TYPE_11,
                                         "released": [s.value for s in RELEASED]}).one()
        ours = {entry: (number, int(cents)) for entry, number, cents in conn.execute(text(
            "SELECT entry_number, statement_number, amount_cents FROM ace_statement_entries"))}
    differ = sum(1 for entry in ours.keys() | ace.keys() if ours.get(entry) != ace.get(entry))
    ok = row.summaries > 0 and not (
        row.unpaid or row.paid_twice or row.paid_unaccepted or row.amount_off
        or row.statements_off or row.without_statement or row.applied_off
        or row.released_unpaid or differ)
    return Check("each informal entry's duty paid once (statements against ACE's)", ok,
                 f"{row.summaries:,} entry summaries accepted, {row.paid:,} entries paid on "
                 f"{row.statements} statements, ${row.total_cents / 100:,.2f} in all: "
                 f"{row.unpaid} accepted but unpaid, {row.paid_twice} paid more than once "
                 f"by ACE, {row.paid_unaccepted} paid without an accepted summary, "
                 f"{row.amount_off} paid other than their duty and fees, "
                 f"{row.statements_off} statements whose count or total is not their "
                 f"entries', {row.without_statement} entries on no statement, "
                 f"{row.applied_off} paid HAWBs without exactly one payment in their "
                 f"history, {row.released_unpaid} released Type 11 HAWBs unpaid; "
                 f"{differ} entries where the service's statements differ from ACE's")


class KafkaCollector:
    """Reads the port topics from the start of the run, as a consumer would, and counts
    each event id. Reading only at the end would not do: the mock broker keeps a bounded
    log per partition and drops the oldest records of a long run."""

    def __init__(self, bootstrap: str, topics: list[str]) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.seen: Counter[str] = Counter()
        self._finish = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="kafka-collector", daemon=True)

    def start(self) -> KafkaCollector:
        self._thread.start()
        return self

    def finish(self, timeout: float = 600.0) -> Counter[str]:
        """Read up to the end of every partition, then stop."""
        self._finish.set()
        self._thread.join(timeout)
        if self._error is not None:
            raise RuntimeError(f"the Kafka collector failed: {self._error!r}")
        return self.seen

    def _run(self) -> None:
        try:
            asyncio.run(self._consume())
        except BaseException as exc:  # reported by finish()
            self._error = exc

    async def _consume(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    auto_offset_reset="earliest", group_id=None,
                                    max_partition_fetch_bytes=8 * 2**20)
        await consumer.start()
        try:
            partitions = [TopicPartition(t, p) for t in self.topics
                          for p in sorted(await _partitions(consumer, t, self._finish))]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends: dict[TopicPartition, int] | None = None
            while True:
                if ends is None and self._finish.is_set():
                    ends = await consumer.end_offsets(partitions)
                batch = await consumer.getmany(timeout_ms=500, max_records=20_000)
                for records in batch.values():
                    for record in records:
                        self.seen[dict(record.headers)["event-id"].decode()] += 1
                if ends is not None and all(
                        [await consumer.position(tp) >= ends[tp] for tp in partitions]):
                    return
        finally:
            await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str, finishing: threading.Event
                      ) -> set[int]:
    """The topic's partitions, once it exists: the relay's first event for the port creates
    it, which in a small run may come late. None when the run ends before that."""
    while True:
        last_look = finishing.is_set()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        if last_look:
            return set()
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.1)


def port_topics(prefix: str = "s321") -> list[str]:
    return [f"{prefix}.port.{port}" for port in sorted(PORT_SHARES)]


def _on_kafka(engine: Engine, seen: Counter[str]) -> Check:
    with engine.connect() as conn:
        outbox = set(conn.scalars(text("SELECT event_id FROM outbox")))
    missing = outbox - seen.keys()
    foreign = seen.keys() - outbox
    repeated = sum(1 for c in seen.values() if c > 1)
    ok = not missing and not foreign
    return Check("every event on Kafka (port topics), exactly once by id", ok,
                 f"{len(outbox):,} outbox events; {sum(seen.values()):,} records read, "
                 f"{len(seen):,} distinct ids ({repeated:,} delivered more than once, "
                 f"removed by de-duplication); {len(missing)} missing, {len(foreign)} "
                 f"not in the outbox")


_CHAIN = """
WITH allowed(from_status, event, to_status) AS (VALUES {values}),
h AS (
  SELECT hawb_id, from_status, to_status, event, id,
         lag(to_status) OVER (PARTITION BY hawb_id ORDER BY id) AS previous,
         row_number() OVER (PARTITION BY hawb_id ORDER BY id DESC) AS from_end
  FROM hawb_history)
SELECT
  count(*) FILTER (WHERE a.event IS NULL) AS not_in_table,
  count(*) FILTER (WHERE h.previous IS NOT NULL AND h.previous <> h.from_status) AS broken,
  count(*) FILTER (WHERE h.previous IS NULL AND NOT h.from_status = ANY(:judged)) AS bad_start,
  count(*) FILTER (WHERE h.from_end = 1 AND hw.status IS DISTINCT FROM h.to_status) AS bad_end,
  count(*) AS rows, count(DISTINCT h.hawb_id) AS hawbs
FROM h
LEFT JOIN allowed a ON (a.from_status, a.event, a.to_status) = (h.from_status, h.event,
                                                               h.to_status)
LEFT JOIN hawbs hw ON hw.id = h.hawb_id
"""


def _histories(engine: Engine) -> Check:
    values = ", ".join(f"('{s}', '{e.value}', '{t}')" for (s, e), t in TABLE.items())
    with engine.connect() as conn:
        row = conn.execute(text(_CHAIN.format(values=values)),
                           {"judged": [s.value for s in JUDGED]}).one()
        without = conn.execute(text(
            "SELECT count(*) FROM hawbs h WHERE h.status <> ALL(:judged) AND NOT EXISTS ("
            " SELECT 1 FROM hawb_history x WHERE x.hawb_id = h.id)"),
            {"judged": [s.value for s in JUDGED]}).scalar_one()
    ok = not (row.not_in_table or row.broken or row.bad_start or row.bad_end or without)
    return Check("every history follows the transition table", ok,
                 f"{row.rows:,} history rows of {row.hawbs:,} HAWBs: {row.not_in_table} moves "
                 f"not in the table, {row.broken} breaks in a chain, {row.bad_start} chains "
                 f"not starting at a judged status, {row.bad_end} not ending at the HAWB's "
                 f"status, {without} moved HAWBs without history")


def _all_final(engine: Engine) -> Check:
    p = progress(engine)
    return Check("every HAWB released or finally refused, every event sent", p.done,
                 f"{p.final:,} of {p.hawbs:,} HAWBs final; {p.unsent_events} events unsent")


def invariants(engine: Engine, simulator_url: str, collector: KafkaCollector) -> list[Check]:
    return [_all_final(engine), _filed_once(engine, simulator_url),
            paid_once(engine, simulator_payments(simulator_url)),
            _on_kafka(engine, collector.finish()), _histories(engine)]


# -- figures ---------------------------------------------------------------------------------

_STAGES = """
WITH t AS (
  SELECT h.id, h.created_at AS received, h.decided_at AS decided,
         min(x.at) FILTER (WHERE x.event = 'approve') AS approved,
         min(x.at) FILTER (WHERE x.event = 'claim') AS claimed,
         min(x.at) FILTER (WHERE x.to_status IN ('submitted', 'accepted')
                           AND x.from_status IN ('submitting')) AS submitted,
         min(x.at) FILTER (WHERE x.event = 'accept') AS accepted,
         min(x.at) FILTER (WHERE x.event = 'pay_statement') AS paid,
         min(x.at) FILTER (WHERE x.event = 'release') AS released
  FROM hawbs h JOIN hawb_history x ON x.hawb_id = h.id
  GROUP BY h.id, h.created_at, h.decided_at)
SELECT stage, count(v) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY v) AS p95,
       max(v) AS max
FROM t, LATERAL (VALUES
  (1, 'upload -> judged', extract(epoch FROM decided - received)),
  (2, 'judged -> approved by broker', extract(epoch FROM approved - decided)),
  (3, 'approved -> claimed by a worker', extract(epoch FROM claimed - approved)),
  (4, 'claimed -> filed (receipt)', extract(epoch FROM submitted - claimed)),
  (5, 'filed -> accepted by ACE', extract(epoch FROM accepted - submitted)),
  (6, 'accepted -> duty paid (statement)', extract(epoch FROM paid - accepted)),
  (7, 'accepted -> released (1C)', extract(epoch FROM released - accepted)),
  (8, 'upload -> released (end to end)', extract(epoch FROM released - received))
) AS s(ord, stage, v)
GROUP BY ord, stage ORDER BY ord
"""


@dataclass
class Stage:
    name: str
    count: int
    p50: float | None
    p95: float | None
    max: float | None


@dataclass
class Figures:
    hawbs: int
    released: int
    seconds: float
    stages: list[Stage] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.hawbs / self.seconds if self.seconds else 0.0


def figures(engine: Engine) -> Figures:
    with engine.connect() as conn:
        stages = [Stage(r.stage, r.n, _f(r.p50), _f(r.p95), _f(r.max))
                  for r in conn.execute(text(_STAGES)).all()]
        row = conn.execute(text(
            "SELECT (SELECT count(*) FROM hawbs) AS hawbs,"
            " (SELECT count(*) FROM hawbs WHERE status = ANY(:rel)) AS released,"
            " extract(epoch FROM (SELECT max(at) FROM hawb_history)"
            "  - (SELECT min(received_at) FROM uploads)) AS seconds"),
            {"rel": [s.value for s in RELEASED]}
        ).one()
    return Figures(row.hawbs, row.released, float(row.seconds or 0), stages)


def _f(value: Any) -> float | None:
    return None if value is None else float(value)
