"""The simulated ACE: validates Type 86 and Type 11 filings and plays out CBP's answers in
virtual time: acceptance, the filer's daily statement and its payment (Type 11), holds, PGA
reviews, permit to transfer and release.

Every filing's random draws come from its own generator seeded with (seed, entry number),
and events due at the same instant are ordered by what they concern (entry number or
MAWB, then phase), so the message log depends on the seed and the entries filed, not on
the order they were submitted in or on threads.
"""

from __future__ import annotations

import enum
import hashlib
import heapq
import itertools
import math
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, get_args

from pydantic import TypeAdapter

from app.ace_gateway.documents import AnyEntry, Type11Entry
from app.ace_gateway.entry_numbers import display, is_valid
from app.ace_gateway.gateway import GatewayBusy
from app.ace_gateway.messages import (
    AceError,
    AceMessage,
    Health,
    MessageBatch,
    MessageKind,
    Receipt,
)
from app.ace_gateway.simulator.clock import SimClock
from app.ace_gateway.simulator.config import SimulatorConfig
from app.ace_gateway.simulator.reference import TariffReference
from app.kit.money import dollars

MISSING_EDA = "282"  # the code the project brief gives; not found in public CATAIR text
# Codes of CBP's "ACE Cargo Release (SE) Input Validation Rules".
BAD_CHECK_DIGIT = "006"  # INVALID ENTRY NUMBER
OTHER_BILL = "007"  # ENTRY NUMBER ALREADY ON FILE
# Simulated codes: ACE answers these cases too, but with codes this simulator does not copy.
FILER_MISMATCH = "S02"
ALREADY_ON_FILE = "S04"
BAD_PORT = "S05"
UNKNOWN_HTS = "S06"
TYPE86_SUSPENDED = "S07"
# Type 11 (informal entry) rules. Codes 648, 852, 613 and 624 are ACE's, with the narratives
# of a public transcription of CBP's ACE Error Dictionary (July 2026); it was not read in
# CBP's own copy. The S codes are the simulator's, for rules whose ACE codes were not found.
OVER_INFORMAL_LIMIT = "648"  # Total Value Exceeds Infrml Limit
IOR_MISSING = "S12"
IOR_MALFORMED = "S13"
MID_MISSING = "S14"
MID_MALFORMED = "S15"
CHAPTER99_INVALID = "S16"  # not a Chapter 99 number in force on the date
HTS_OUT_OF_SEQUENCE = "852"  # Chapter 99 numbers before the Chapter 1-97 number
HTS_RELATIONSHIP = "613"  # HTS RELATIONSHIP MISMATCH: not for this line's HTS or origin
LINE_DUTY_MISMATCH = "624"  # EST DUTY/CALC'D DUTY MISMATCH - LINE, allowing $2.99 a line
LINE_DUTY_TOLERANCE_CENTS = 299
ARITHMETIC = "S17"
FEE_CLASS = "S18"

REJECTION_CODES: dict[str, str] = {
    MISSING_EDA: "estimated date of arrival missing",
    BAD_CHECK_DIGIT: "entry number fails its check digit (CBP: INVALID ENTRY NUMBER)",
    FILER_MISMATCH: "filer code is not the entry number's first 3 characters (simulated code)",
    OTHER_BILL: "entry number already on file for another bill (CBP: ENTRY NUMBER ALREADY ON "
                "FILE)",
    ALREADY_ON_FILE: "entry number already on file for this bill with other data; action A "
                     "cannot replace it (simulated code)",
    BAD_PORT: "port of entry is not a 4-digit Schedule D code (simulated code)",
    UNKNOWN_HTS: "HTS number is not a statistical line of the schedule (simulated code)",
    TYPE86_SUSPENDED: "Type 86 not accepted for arrivals on or after the suspension of de "
                      "minimis (simulated code)",
    OVER_INFORMAL_LIMIT: "Type 11 entry valued over $2,500 (19 CFR 143.21(a); Total Value "
                         "Exceeds Infrml Limit)",
    IOR_MISSING: "importer of record number missing (simulated code)",
    IOR_MALFORMED: "importer of record number not an EIN with suffix, an SSN or a "
                   "CBP-assigned number (simulated code)",
    MID_MISSING: "manufacturer ID missing on a line (simulated code)",
    MID_MALFORMED: "manufacturer ID not built by CBP's rules (simulated code)",
    CHAPTER99_INVALID: "Chapter 99 number unknown or not in force on the arrival date "
                       "(simulated code)",
    HTS_OUT_OF_SEQUENCE: "Chapter 99 numbers not reported before the Chapter 1-97 number (HTS "
                         "OUT OF SEQUENCE)",
    HTS_RELATIONSHIP: "Chapter 99 number not for the line's HTS number or origin (HTS "
                      "RELATIONSHIP MISMATCH)",
    LINE_DUTY_MISMATCH: "a line's duty differs by more than $2.99 from the duty its rates "
                        "give (EST DUTY/CALC'D DUTY MISMATCH - LINE)",
    ARITHMETIC: "duty, fee or grand total does not match the sum of the entry summary's "
                "amounts (simulated code)",
    FEE_CLASS: "an informal entry's fee is not the informal MPF, class 311 (simulated code)",
}

INFORMAL_LIMIT_CENTS = 2_500_00  # 19 CFR 143.21(a)
INFORMAL_MPF_CLASS = "311"
# The header totals' tolerance is the simulator's own (ACE's was not found): one dollar.
TOLERANCE_CENTS = 100
# Importer number forms (CATAIR importer number; 19 CFR 24.5): IRS EIN with a 2-character
# suffix (NN-NNNNNNNXX), SSN (NNN-NN-NNNN), CBP-assigned (YYDDPP-NNNNN).
_IOR_FORMS = (re.compile(r"^\d{2}-?\d{7}[0-9A-Z]{2}$"), re.compile(r"^\d{3}-?\d{2}-?\d{4}$"),
              re.compile(r"^\d{6}-?\d{5}$"))
# MID, in the shape of CBP's construction rules (appendix to 19 CFR part 102; the rules
# themselves were not re-read for this check, so its strictness is unverified): the ISO
# country (for Canada the province code, X + letter), up to 3 + 3 letters of the name, up
# to 4 digits of the street number, up to 3 letters of the city; at most 15 characters.
_MID = re.compile(r"^[A-Z]{2}[A-Z]{1,6}\d{0,4}[A-Z]{0,3}$")


# Dispositions ACE uses on cargo release status notifications.
HOLD_DISPOSITION = "1H"
HOLD_REMOVED_DISPOSITION = "1I"
RELEASED_DISPOSITION = "1C"

# Virtual seconds after acceptance (drawn per filing): PGA review and CBP hold start.
PGA_REVIEW_START_S = (5.0, 60.0)
HOLD_START_S = (60.0, 900.0)

_PORT = re.compile(r"^\d{4}$")

FaultKind = Literal["timeout", "error", "drop"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass(frozen=True)
class Fault:
    """A failure the HTTP service (or the in-process adapter) plays on the next requests."""

    kind: FaultKind
    after_processing: bool = False
    delay_s: float = 30.0


class _Phase(enum.IntEnum):
    ANSWER = 0
    PGA_REVIEW = 1
    HOLD = 2
    PGA_DECISION = 3
    HOLD_END = 4
    PERMIT = 5
    RELEASE = 6
    PAYMENT = 7


_Condition = tuple[str, int, str]  # ("pga", line_no, agency), ("hold", 0, ""), payment
_HOLD: _Condition = ("hold", 0, "")
_PAYMENT: _Condition = ("payment", 0, "")


@dataclass(eq=False, slots=True)
class _Filing:
    number: str
    bill: str
    mawb: str
    hawb: str
    port_code: str
    entry_type: str | None  # "11" for informal entries; None: Type 86
    transaction_id: str
    errors: tuple[AceError, ...]
    # The document until ACE answers it. After that only its fingerprint is kept, to tell a
    # retry (the same document again) from another filing under the number: a day's
    # parsed documents would otherwise hold most of the simulator's memory.
    entry: AnyEntry | None
    fingerprint: bytes = b""
    state: Literal["pending", "accepted", "rejected"] = "pending"
    # Open PGA reviews and holds; the entry is cleared when none is left.
    open: set[_Condition] = field(default_factory=set)
    cleared_at: datetime | None = None
    refused: bool = False
    released: bool = False

    @classmethod
    def of(cls, entry: AnyEntry, transaction_id: str,
           errors: tuple[AceError, ...]) -> _Filing:
        return cls(number=entry.entry_number, bill=entry.bill, mawb=entry.mawb,
                   hawb=entry.hawb, port_code=entry.port_code,
                   entry_type="11" if isinstance(entry, Type11Entry) else None,
                   transaction_id=transaction_id, errors=errors, entry=entry)

    @property
    def label(self) -> str:
        return f"Entry {display(self.number)} (bill {self.bill})"

    def holds(self, entry: AnyEntry) -> bool:
        """Whether ``entry`` is this filing's document again, field by field."""
        if self.entry is not None:
            return self.entry == entry
        return self.fingerprint == _fingerprint(entry)

    def answered(self) -> None:
        """Keep only what later filings under the number are compared with."""
        if self.entry is not None and self.state == "accepted":
            self.fingerprint = _fingerprint(self.entry)
        self.entry = None


def _fingerprint(entry: AnyEntry) -> bytes:
    """Equal documents render alike, so equal fingerprints stand for equal fields. One
    difference from comparing fields: a decimal written with other trailing zeros (2 and
    2.0) counts as other data."""
    text = f"{type(entry).__name__}:{entry.model_dump_json()}"
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


@dataclass(eq=False)
class Statement:
    """A filer's daily statement: the informal entries whose summaries ACE accepted that
    day, with their duties and fees, paid by ACH."""

    number: str
    filer_code: str
    day: date
    entries: dict[str, int] = field(default_factory=dict)  # entry number -> cents paid

    @property
    def total_cents(self) -> int:
        return sum(self.entries.values())


def statement_number(filer_code: str, day: date) -> str:
    """Filer code, the statement date as YYMMDD and ``D`` for daily: one per filer and day.
    The form is the simulator's; ACE's own numbering was not found in public text."""
    return f"{filer_code}{day:%y%m%d}D"


@dataclass(eq=False)
class _Mawb:
    mawb: str
    arrival_at: datetime | None = None
    port_code: str | None = None
    accepted: list[_Filing] = field(default_factory=list)
    permit_due: datetime | None = None
    permitted_at: datetime | None = None
    # Only the latest scheduled permit counts (an announced arrival replaces the EDA's).
    permit_token: int = 0


_Action = Callable[[datetime], None]
_Key = tuple[str, int, int, str]


def _rng(seed: int, entry_number: str) -> random.Random:
    digest = hashlib.sha256(f"{seed}:{entry_number}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


_MESSAGE = TypeAdapter(AceMessage)


def _mawb_label(mawb: str) -> str:
    return f"{mawb[:3]}-{mawb[3:]}"


class Simulator:
    """An in-memory ACE for Type 86 and Type 11 entries; every public method is thread safe."""

    def __init__(self, config: SimulatorConfig, hts_codes: frozenset[str] | None = None,
                 clock: SimClock | None = None, tariff: TariffReference | None = None) -> None:
        self.config = config
        self.hts_codes = hts_codes
        self.tariff = tariff
        self._statements: dict[tuple[str, date], Statement] = {}
        self.clock = clock or SimClock(config.start or datetime.now(UTC), config.time_scale)
        self._lock = threading.RLock()
        self._by_number: dict[str, list[_Filing]] = {}
        self._filing_counts: dict[str, int] = {}
        self._mawbs: dict[str, _Mawb] = {}
        self._events: list[tuple[datetime, _Key, int, _Action]] = []
        self._event_ids = itertools.count()
        # Each message as the JSON ACE sends it: under half the memory of the message
        # object, and the HTTP service answers a poll without rendering it again.
        self._log: list[bytes] = []
        self._transactions = 0
        self._submissions = 0
        self._tokens = float(config.burst or 0)
        self._refilled_at = self.clock.now()
        self._fault: Fault | None = None
        self._faults_left = 0
        self._faults_until: float | None = None  # time.monotonic(); None: counted faults

    # -- the gateway side ---------------------------------------------------------------

    def submit(self, entries: Sequence[AnyEntry]) -> list[Receipt]:
        """File a batch: one receipt per entry. Raises GatewayBusy (nothing filed) when the
        batch does not fit the throttle."""
        with self._lock:
            now = self.clock.now()
            self._flush(now)
            self._take_tokens(len(entries), now)
            self._submissions += len(entries)
            return [self._file(entry, now) for entry in entries]

    def poll(self, after: int, limit: int = 500) -> MessageBatch:
        """Messages with seq greater than ``after``, oldest first."""
        texts, cursor = self._page(after, limit)
        return MessageBatch(messages=[_MESSAGE.validate_json(text) for text in texts],
                            cursor=cursor)

    def poll_json(self, after: int, limit: int = 500) -> bytes:
        """``poll``'s answer as the JSON of a ``MessageBatch``."""
        texts, cursor = self._page(after, limit)
        return b'{"messages":[%b],"cursor":%d}' % (b",".join(texts), cursor)

    def _page(self, after: int, limit: int) -> tuple[list[bytes], int]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        with self._lock:
            self._flush(self.clock.now())
            start = max(after, 0)
            texts = self._log[start:start + limit]
        # A message's seq is its place in the log, counted from 1.
        return texts, (start + len(texts) if texts else after)

    def health(self) -> Health:
        with self._lock:
            now = self.clock.now()
            self._flush(now)
            detail = (f"ACE simulator (seed {self.config.seed}), virtual time "
                      f"{now.isoformat(timespec='seconds')}: "
                      f"{sum(self._filing_counts.values())} filings, {len(self._log)} messages")
        return Health(ok=True, detail=detail)

    # -- inspection and control ---------------------------------------------------------

    def now(self) -> datetime:
        return self.clock.now()

    def filings(self) -> dict[str, int]:
        """New filings (accepted or rejected) per entry number; duplicates do not count."""
        with self._lock:
            return dict(self._filing_counts)

    def statements(self) -> list[Statement]:
        """The daily statements so far, by number."""
        with self._lock:
            return sorted(self._statements.values(), key=lambda st: st.number)

    @property
    def submission_count(self) -> int:
        """Entries received, duplicates included (batches refused by the throttle not)."""
        with self._lock:
            return self._submissions

    def advance(self, seconds: float) -> datetime:
        """Move virtual time forward and play out what fell due; returns the new time."""
        with self._lock:
            now = self.clock.advance(seconds)
            self._flush(now)
            return now

    def announce_arrival(self, mawb: str, at: datetime | None = None) -> datetime | None:
        """The flight carrying ``mawb`` arrived (at ``at``, default now). Replaces the
        arrival derived from the EDA; no effect once the permit to transfer was issued.
        Returns the arrival in force."""
        with self._lock:
            now = self.clock.now()
            self._flush(now)
            state = self._mawbs.setdefault(mawb, _Mawb(mawb))
            if state.permitted_at is not None:
                return state.arrival_at
            if at is not None and at.tzinfo is None:
                at = at.replace(tzinfo=UTC)
            state.arrival_at = at or now
            if state.accepted:
                self._schedule_permit(state, now)
            self._flush(now)
            return state.arrival_at

    def inject_fault(self, kind: FaultKind, count: int, after_processing: bool = False,
                     delay_s: float = 30.0, for_s: float | None = None) -> None:
        """Make the next ``count`` submit/poll requests fail the given way; with ``for_s``,
        every request for that many (real) seconds instead."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r} (one of {', '.join(FAULT_KINDS)})")
        if count < 0 or delay_s < 0 or (for_s is not None and for_s < 0):
            raise ValueError("count, delay_s and for_s cannot be negative")
        with self._lock:
            self._fault = Fault(kind, after_processing, delay_s)
            self._faults_left = count
            self._faults_until = None if for_s is None else time.monotonic() + for_s

    def clear_faults(self) -> None:
        with self._lock:
            self._fault, self._faults_left, self._faults_until = None, 0, None

    def take_fault(self) -> Fault | None:
        """The fault the current request suffers, if any (counts it off)."""
        with self._lock:
            if self._faults_until is not None:
                if time.monotonic() < self._faults_until:
                    return self._fault
                self._fault, self._faults_until = None, None
            if self._fault is None or self._faults_left <= 0:
                return None
            self._faults_left -= 1
            return self._fault

    # -- filing -------------------------------------------------------------------------

    def _take_tokens(self, count: int, now: datetime) -> None:
        limit, size = self.config.max_entries_per_hour, self.config.burst
        if limit is None or size is None or count == 0:
            return
        rate = limit / 3600
        elapsed = max((now - self._refilled_at).total_seconds(), 0.0)
        self._tokens = min(float(size), self._tokens + elapsed * rate)
        self._refilled_at = now
        # A batch larger than the bucket goes when the bucket is full and leaves a debt.
        needed = min(count, size)
        if self._tokens + 1e-9 < needed:
            wait = self.clock.real_seconds((needed - self._tokens) / rate)
            raise GatewayBusy(
                f"ACE is throttling this filer: at most {limit} entries an hour. Nothing of "
                f"this batch of {count} was filed; send it again in {math.ceil(wait)} s.",
                retry_after=wait)
        self._tokens -= count

    def _file(self, entry: AnyEntry, now: datetime) -> Receipt:
        number = entry.entry_number
        earlier = self._by_number.setdefault(number, [])
        # Filings still in force: answered "accepted" or not answered yet.
        live = [f for f in earlier if f.state != "rejected"]
        for filing in live:
            # The same document again (equal field by field): a retry, not a new filing.
            if filing.holds(entry):
                return Receipt(entry_number=number, transaction_id=filing.transaction_id,
                               status="duplicate")
        self._transactions += 1
        filing = _Filing.of(entry, f"T{self._transactions:010d}",
                            self._validate(entry, live))
        earlier.append(filing)
        self._filing_counts[number] = self._filing_counts.get(number, 0) + 1
        self._schedule(now + timedelta(seconds=self.config.accept_delay_s),
                       (number, _Phase.ANSWER, 0, ""), lambda t: self._answer(filing, t))
        return Receipt(entry_number=number, transaction_id=filing.transaction_id,
                       status="received")

    def _validate(self, entry: AnyEntry, live: list[_Filing]) -> tuple[AceError, ...]:
        number = entry.entry_number
        errors: list[AceError] = []

        def reject(code: str, message: str, field_name: str | None) -> None:
            errors.append(AceError(code=code, message=message, field=field_name))

        if not is_valid(number):
            reject(BAD_CHECK_DIGIT, f"Entry number {number} fails its check digit "
                   "(CATAIR Appendix E).", "entry_number")
        if entry.filer_code != number[:3]:
            reject(FILER_MISMATCH, f"Filer code {entry.filer_code} does not match entry "
                   f"number {number}, which belongs to filer {number[:3]}.", "filer_code")
        for filing in live:
            if filing.bill != entry.bill:
                reject(OTHER_BILL, f"Entry number {number} is already on file for bill "
                       f"{filing.bill}; one entry covers one bill.",
                       "entry_number")
                break
        else:
            if live:
                reject(ALREADY_ON_FILE, f"Entry number {number} is already on file for bill "
                       f"{entry.bill} with other data; an add (A) cannot replace it.",
                       "entry_number")
        if not _PORT.match(entry.port_code):
            reject(BAD_PORT, f"Port of entry {entry.port_code!r} is not a 4-digit "
                   "Schedule D code.", "port_code")
        eda, cutoff = entry.estimated_arrival, self.config.type86_cutoff
        if eda is None:
            reject(MISSING_EDA, "Estimated date of arrival missing.", "estimated_arrival")
        if isinstance(entry, Type11Entry):
            errors.extend(self._validate_informal(entry))
        elif eda is not None and cutoff is not None and eda >= cutoff:
            reject(TYPE86_SUSPENDED, f"Type 86 entries are not accepted for goods arriving "
                   f"on or after {cutoff.isoformat()} (arrival {eda.isoformat()}): de minimis "
                   "is suspended under EO 14324 (CSMS #66065494). File a formal or informal "
                   "entry instead.", "estimated_arrival")
        if self.hts_codes is not None:
            for line in entry.lines:
                if line.hts_code not in self.hts_codes:
                    reject(UNKNOWN_HTS, f"Line {line.line_no}: HTS number {line.hts_code} is "
                           "not a statistical line of the tariff schedule.",
                           f"lines[{line.line_no}].hts_code")
        return tuple(errors)

    def _validate_informal(self, entry: Type11Entry) -> list[AceError]:
        """The entry summary's own rules: value limit, importer, MIDs, Chapter 99 numbers,
        fees and arithmetic recomputed from the records."""
        errors: list[AceError] = []

        def reject(code: str, message: str, field_name: str | None) -> None:
            errors.append(AceError(code=code, message=message, field=field_name))

        value = entry.total_value_cents
        if value > INFORMAL_LIMIT_CENTS:
            reject(OVER_INFORMAL_LIMIT, f"Entered value {dollars(value)} exceeds the "
                   "$2,500.00 limit of an informal entry (19 CFR 143.21(a)); file a formal "
                   "entry (type 01).", "lines")
        ior = entry.importer.identifier if entry.importer else None
        if not ior:
            reject(IOR_MISSING, "Importer of record number missing: an entry summary needs "
                   "the IRS, SSN or CBP-assigned number of the importer.", "importer")
        elif not any(form.match(ior) for form in _IOR_FORMS):
            reject(IOR_MALFORMED, f"Importer of record number {ior!r} is not an IRS number "
                   "with suffix (NN-NNNNNNNXX), an SSN or a CBP-assigned number "
                   "(YYDDPP-NNNNN).", "importer.identifier")
        on = entry.estimated_arrival
        declared_duty = 0
        for line in entry.lines:
            where = f"lines[{line.line_no}]"
            if not line.mid:
                reject(MID_MISSING, f"Line {line.line_no}: manufacturer ID missing.",
                       f"{where}.mid")
            elif len(line.mid) > 15 or not _MID.match(line.mid):
                reject(MID_MALFORMED, f"Line {line.line_no}: manufacturer ID {line.mid!r} "
                       "is not built by CBP's rules (country, name, street number, city; at "
                       "most 15 characters).", f"{where}.mid")
            base = line.tariff[-1]
            chapter99 = [r for r in line.tariff if r.kind == "chapter99"]
            if base.kind != "base" or len(chapter99) != len(line.tariff) - 1:
                reject(HTS_OUT_OF_SEQUENCE, f"Line {line.line_no}: HTS OUT OF SEQUENCE - "
                       "Chapter 99 numbers must be reported before the Chapter 1-97 number "
                       "(CSMS #18-000624).", f"{where}.tariff")
            if self.tariff is not None and on is not None:
                for record in chapter99:
                    problem = self.tariff.problem(record.number, line.hts_code,
                                                  line.origin_country, on)
                    if problem is not None:
                        mismatch, why = problem
                        reject(HTS_RELATIONSHIP if mismatch else CHAPTER99_INVALID,
                               f"Line {line.line_no}: Chapter 99 number {record.number} "
                               f"{why}.", f"{where}.tariff")
            # Ad valorem duties are recomputed; a specific or compound one is taken as
            # declared (its quantity conversions are not in the document).
            declared = sum(r.duty_cents for r in line.tariff)
            due = sum(r.duty_cents if r.ad_valorem_pct is None else int(
                (Decimal(r.value_cents) * r.ad_valorem_pct / 100)
                .quantize(Decimal(1), ROUND_HALF_UP)) for r in line.tariff)
            declared_duty += declared
            if abs(due - declared) > LINE_DUTY_TOLERANCE_CENTS:
                reject(LINE_DUTY_MISMATCH, f"Line {line.line_no}: EST DUTY/CALC'D DUTY "
                       f"MISMATCH - duty reported {dollars(declared)}, the rates give "
                       f"{dollars(due)} (allowed difference $2.99).", f"{where}.tariff")
        for fee in entry.fees:
            if fee.fee_class != INFORMAL_MPF_CLASS:
                reject(FEE_CLASS, f"Fee class {fee.fee_class} is not allowed on an informal "
                       "entry; the merchandise processing fee is class 311.", "fees")
        fees = sum(f.amount_cents for f in entry.fees)
        for name, declared, due in (("Duty", entry.duty_cents, declared_duty),
                                    ("Fees", entry.fees_cents, fees),
                                    ("Total", entry.total_cents,
                                     entry.duty_cents + entry.fees_cents)):
            if abs(declared - due) > TOLERANCE_CENTS:
                reject(ARITHMETIC, f"{name} total declared {dollars(declared)} does not "
                       f"match {dollars(due)} recomputed from the entry summary.",
                       name.lower() + "_cents")
        return errors

    # -- what happens after ---------------------------------------------------------------

    def _answer(self, filing: _Filing, t: datetime) -> None:
        entry = filing.entry
        assert entry is not None, "a filing is answered once"
        self._decide(filing, entry, t)
        filing.answered()

    def _decide(self, filing: _Filing, entry: AnyEntry, t: datetime) -> None:
        config = self.config
        if filing.errors:
            filing.state = "rejected"
            reasons = " ".join(f"[{e.code}] {e.message}" for e in filing.errors)
            self._emit_entry(filing, t, MessageKind.REJECTED, errors=filing.errors,
                             narrative=f"{filing.label} rejected. {reasons} Correct the entry "
                             "and file it again.")
            return
        filing.state = "accepted"
        if isinstance(entry, Type11Entry):
            self._emit_entry(filing, t, MessageKind.ACCEPTED,
                             narrative=f"{filing.label}: cargo release (type 11) accepted at "
                             f"port {entry.port_code}; release follows the payment of the "
                             "duties, the flight's arrival and any agency review.")
            self._emit_entry(filing, t, MessageKind.ENTRY_SUMMARY_ACCEPTED,
                             amount_cents=entry.total_cents,
                             narrative=f"{filing.label}: entry summary accepted; duty "
                             f"{dollars(entry.duty_cents)}, fees "
                             f"{dollars(entry.fees_cents)}, total "
                             f"{dollars(entry.total_cents)}, on the filer's daily "
                             "statement.")
            filing.open.add(_PAYMENT)
            filer, total = entry.filer_code, entry.total_cents
            self._schedule(t + timedelta(seconds=config.statement_payment_delay_s),
                           (filing.number, _Phase.PAYMENT, 0, ""),
                           lambda at: self._pay(filing, filer, total, t, at))
        else:
            self._emit_entry(filing, t, MessageKind.ACCEPTED,
                             narrative=f"{filing.label} accepted at port {entry.port_code}; "
                             "release follows the flight's arrival and any agency review.")
        # Draw everything in a fixed order, used or not, so each draw means the same thing
        # whatever the rates are.
        rng = _rng(config.seed, filing.number)
        hold = rng.random() < config.hold_rate
        hold_after = rng.uniform(*HOLD_START_S)
        hold_refused = rng.random() < config.hold_refuse_rate
        for line in entry.lines:
            for agency in dict.fromkeys(line.pga_flags):
                review_after = rng.uniform(*PGA_REVIEW_START_S)
                refused = rng.random() < config.pga_reject_rate
                filing.open.add(("pga", line.line_no, agency))
                self._schedule(t + timedelta(seconds=review_after),
                               (filing.number, _Phase.PGA_REVIEW, line.line_no, agency),
                               self._pga_review(filing, line.line_no, agency, refused))
        if hold:
            filing.open.add(_HOLD)
            self._schedule(t + timedelta(seconds=hold_after),
                           (filing.number, _Phase.HOLD, 0, ""),
                           lambda at: self._hold(filing, hold_refused, at))
        self._register_accepted(filing, entry, t)
        if not filing.open:
            self._clear(filing, t)

    def _pga_review(self, filing: _Filing, line_no: int, agency: str,
                    refused: bool) -> _Action:
        where = f"line {line_no} of {filing.label[0].lower()}{filing.label[1:]}"

        def started(t: datetime) -> None:
            if filing.refused:
                return
            self._emit_entry(filing, t, MessageKind.PGA_UNDER_REVIEW, line_no=line_no,
                             agency=agency, narrative=f"{agency} is reviewing {where}; the "
                             f"goods may not be released until {agency} decides.")
            self._schedule(t + timedelta(seconds=self.config.pga_review_delay_s),
                           (filing.number, _Phase.PGA_DECISION, line_no, agency), decided)

        def decided(t: datetime) -> None:
            if filing.refused:
                return
            if refused:
                self._emit_entry(filing, t, MessageKind.PGA_REJECTED, line_no=line_no,
                                 agency=agency,
                                 narrative=f"{agency} refused admission of {where}.")
                self._refuse(filing, t, f"{agency} refused admission of line {line_no}")
                return
            self._emit_entry(filing, t, MessageKind.PGA_MAY_PROCEED, line_no=line_no,
                             agency=agency, narrative=f"{agency}: may proceed, {where}.")
            self._resolve(filing, ("pga", line_no, agency), t)

        return started

    def _pay(self, filing: _Filing, filer_code: str, total_cents: int,
             accepted_at: datetime, t: datetime) -> None:
        """The entry is on its filer's statement for the day its summary was accepted; the
        statement is paid by ACH (simulated: always honoured)."""
        day = accepted_at.date()
        key = (filer_code, day)
        statement = self._statements.get(key)
        if statement is None:
            statement = Statement(statement_number(filer_code, day), filer_code, day)
            self._statements[key] = statement
        statement.entries[filing.number] = total_cents
        self._emit_entry(filing, t, MessageKind.STATEMENT_PAID,
                         statement_number=statement.number, statement_date=day,
                         amount_cents=total_cents,
                         narrative=f"{filing.label}: {dollars(total_cents)} paid by "
                         f"ACH on daily statement {statement.number} of "
                         f"{day.isoformat()}.")
        if not filing.refused:
            self._resolve(filing, _PAYMENT, t)

    def _hold(self, filing: _Filing, refused: bool, t: datetime) -> None:
        if filing.refused:
            return
        self._emit_entry(filing, t, MessageKind.HOLD, disposition=HOLD_DISPOSITION,
                         narrative=f"CBP hold (1H) on {filing.label}: the goods may not leave "
                         "the CFS until the hold is removed.")

        def ended(at: datetime) -> None:
            if filing.refused:
                return
            if refused:
                self._refuse(filing, at, "CBP examination found the goods inadmissible")
                return
            self._emit_entry(filing, at, MessageKind.HOLD_REMOVED,
                             disposition=HOLD_REMOVED_DISPOSITION,
                             narrative=f"CBP hold removed (1I) from {filing.label}.")
            self._resolve(filing, _HOLD, at)

        self._schedule(t + timedelta(seconds=self.config.hold_duration_s),
                       (filing.number, _Phase.HOLD_END, 0, ""), ended)

    def _refuse(self, filing: _Filing, t: datetime, why: str) -> None:
        filing.refused = True
        self._emit_entry(filing, t, MessageKind.REFUSED,
                         narrative=f"{filing.label} refused: {why}. The goods may not enter "
                         "the United States; they must be exported or destroyed under CBP "
                         "supervision.")

    def _resolve(self, filing: _Filing, condition: _Condition, t: datetime) -> None:
        filing.open.discard(condition)
        if not filing.open:
            self._clear(filing, t)

    def _clear(self, filing: _Filing, t: datetime) -> None:
        filing.cleared_at = t
        if self._mawbs[filing.mawb].permitted_at is not None:
            self._schedule_release(filing, t)

    def _register_accepted(self, filing: _Filing, entry: AnyEntry, t: datetime) -> None:
        state = self._mawbs.setdefault(entry.mawb, _Mawb(entry.mawb))
        state.accepted.append(filing)
        if state.port_code is None:
            state.port_code = entry.port_code
        if (state.arrival_at is None and self.config.auto_arrival
                and entry.estimated_arrival is not None):
            state.arrival_at = datetime.combine(
                entry.estimated_arrival, self.config.arrival_time.replace(tzinfo=None),
                tzinfo=UTC)
        if state.arrival_at is not None and state.permit_due is None:
            self._schedule_permit(state, t)

    def _schedule_permit(self, state: _Mawb, t: datetime) -> None:
        assert state.arrival_at is not None
        state.permit_token += 1
        token = state.permit_token
        due = max(state.arrival_at + timedelta(seconds=self.config.ptt_delay_s), t)
        state.permit_due = due
        self._schedule(due, (state.mawb, _Phase.PERMIT, 0, ""),
                       lambda at: self._permit(state, token, at))

    def _permit(self, state: _Mawb, token: int, t: datetime) -> None:
        if token != state.permit_token or state.permitted_at is not None:
            return
        state.permitted_at = t
        port = state.port_code or ""
        self._emit(
            kind=MessageKind.PERMIT_TO_TRANSFER, mawb=state.mawb, port_code=port, issued_at=t,
            narrative=f"Permit to transfer for MAWB {_mawb_label(state.mawb)} at port {port}: "
                      "the cargo may move from the airline terminal to the CFS under bond.")
        for filing in state.accepted:
            if filing.cleared_at is not None and not filing.refused:
                self._schedule_release(filing, t)

    def _schedule_release(self, filing: _Filing, t: datetime) -> None:
        def release(at: datetime) -> None:
            if filing.refused or filing.released:
                return
            filing.released = True
            self._emit_entry(filing, at, MessageKind.RELEASED,
                             disposition=RELEASED_DISPOSITION,
                             narrative=f"{filing.label} released (1C): the goods may leave "
                             "the CFS for delivery.")

        self._schedule(t + timedelta(seconds=self.config.release_delay_s),
                       (filing.number, _Phase.RELEASE, 0, ""), release)

    # -- events and the log -------------------------------------------------------------

    def _schedule(self, due: datetime, key: _Key, action: _Action) -> None:
        heapq.heappush(self._events, (due, key, next(self._event_ids), action))

    def _flush(self, now: datetime) -> None:
        while self._events and self._events[0][0] <= now:
            due, _key, _id, action = heapq.heappop(self._events)
            action(due)

    def _emit_entry(self, filing: _Filing, t: datetime, kind: MessageKind, *,
                    narrative: str, disposition: str | None = None,
                    line_no: int | None = None, agency: str | None = None,
                    errors: tuple[AceError, ...] = (), statement_number: str | None = None,
                    statement_date: date | None = None, amount_cents: int | None = None
                    ) -> None:
        self._emit(
            kind=kind, disposition=disposition,
            entry_number=filing.number, mawb=filing.mawb, hawb=filing.hawb,
            line_no=line_no, port_code=filing.port_code, agency=agency, errors=errors,
            narrative=narrative, issued_at=t, entry_type=filing.entry_type,
            statement_number=statement_number, statement_date=statement_date,
            amount_cents=amount_cents)

    def _emit(self, **fields: Any) -> None:
        seq = len(self._log) + 1
        message = AceMessage(seq=seq, message_id=f"SIM{seq:012d}", **fields)
        self._log.append(_MESSAGE.dump_json(message))
