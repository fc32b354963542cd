"""The database schema: SQLAlchemy 2 typed declarative models.

One database holds the whole flow of DESIGN section 2. Tables, grouped by who writes them:

============================  ===========================================================
reference data                ``jurisdictions``
intake (the LEA side)         ``submissions``, ``bookings``, ``charges``, ``rejected_inputs``
criminal-history repository   ``ch_subjects``, ``ch_arrests``, ``ch_convictions``,
(the FBI side)                ``ch_warrants``, ``ch_biometrics``
immigration repository        ``imm_subjects``, ``imm_encounters``, ``imm_biometrics``,
(the DHS IDENT / LESC side)   ``imm_status_history``, ``imm_orders``, ``imm_removals``
matching                      ``hits``, ``identity_verifications``
field office                  ``cases``, ``decisions``, ``officer_actions``, ``case_facts``
detainers                     ``detainers``, ``detainer_events``
to the LEA                    ``notices``
audit                         ``audit_log``, ``audit_head``, ``audit_checkpoints``
users (0005)                  ``users``, ``user_jurisdictions``, ``user_areas``
============================  ===========================================================

Conventions:

* Timestamps are :class:`~securecomm.store.types.UTCDateTime` (aware, stored in UTC); calendar
  dates (birth, conviction, order) are ``DATE``.
* Enumerations are ``VARCHAR`` with a ``CHECK`` constraint (``Enum(native_enum=False)``) holding
  the enum *values*; values shared with the exchange formats come from
  :mod:`securecomm.law.schema`. Adding a value needs a migration that rewrites the CHECK.
* JSON documents are ``JSON`` (``JSONB`` on PostgreSQL) and hold only what both backends can
  store (:func:`~securecomm.store.types.check_storable_json`).
* Nothing accepted is deleted: rows change state, they are not removed. The audit tables are
  append-only (written only through :mod:`securecomm.store.audit`).
* Constraint and index names follow :data:`NAMING_CONVENTION`, so migrations (and SQLite batch
  mode) can address them by name.

The schema is created by the Alembic migrations in ``store/migrations`` (``securecomm db
upgrade``), never by ``metadata.create_all`` in production; a test checks that the migration
head and these models agree.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import Enum as SAEnum
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ..law.schema import (
    Action,
    CitizenshipStatus,
    Counsel,
    Disclosure,
    Disposition,
    Entry,
    Flags,
    Program,
    Severity,
)
from .types import BigId, JSONType, UTCDateTime

__all__ = [
    "CASE_FACT_NAMES",
    "NAMING_CONVENTION",
    "REPOSITORY_FLAGS",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "Base",
    "Biometric",
    "Booking",
    "CaseFact",
    "CaseRecord",
    "CaseState",
    "ChArrest",
    "ChBiometric",
    "ChConviction",
    "ChSubject",
    "ChWarrant",
    "Charge",
    "DecisionRecord",
    "Detainer",
    "DetainerEvent",
    "DetainerEventType",
    "DetainerKind",
    "DetainerState",
    "Encounter",
    "Hit",
    "IdentityVerification",
    "ImmOrder",
    "ImmRemoval",
    "ImmSubject",
    "Jurisdiction",
    "Modality",
    "Notice",
    "NoticeKind",
    "OfficerAction",
    "OfficerActionKind",
    "OrderKind",
    "PipelineStage",
    "RawEncoding",
    "RawKind",
    "RejectedInput",
    "Repository",
    "StatusHistory",
    "Submission",
    "SubmissionState",
    "User",
    "UserArea",
    "UserJurisdiction",
    "VerificationMethod",
    "VerificationState",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Bounds shared with the repositories' input checks.
TCN_MAX = 64
ORI_LEN = 9
CASE_ID_MAX = 64
ACTOR_MAX = 128
SOURCE_MAX = 64
EVENT_TYPE_MAX = 64
IDEMPOTENCY_KEY_MAX = 128
POLICY_MAX = 64
#: A detainer's policy reference: a pack name or a policy variant file's absolute path.
POLICY_REF_MAX = 1000
HASH_HEX = 64
#: Who asserted a case fact (an LEA certification, an interview, a hotline claim ...).
FACT_SOURCE_MAX = 500
#: Case v1 flags the repositories answer (RAP sheet warrants and gang elements, the watch
#: list): the pipeline takes them from the criminal-history side only.
REPOSITORY_FLAGS = ("outstanding_criminal_warrant", "gang_member", "national_security")
#: Case v1 flags no repository holds: recorded as case facts (``case_facts``) from LEA or
#: prosecutor certifications, interviews, the person's own claim (DESIGN 3.5, 3.7).
CASE_FACT_NAMES = tuple(f for f in Flags.model_fields if f not in REPOSITORY_FLAGS)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _enum(cls: type[enum.Enum], name: str) -> SAEnum:
    """A VARCHAR(40) + CHECK enum persisting the enum *values* (``"287g"``, not a name)."""
    return SAEnum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=40,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ori_fk(**kw) -> Mapped[str]:
    return mapped_column(String(ORI_LEN), ForeignKey("jurisdictions.ori"), **kw)


# --------------------------------------------------------------------------- enumerations


class SubmissionState(enum.StrEnum):
    received = "received"
    processing = "processing"
    completed = "completed"
    failed = "failed"


class PipelineStage(enum.StrEnum):
    """The next pipeline step a submission waits for (``securecomm.interop.stages``).

    ``verification`` and ``officer`` wait for a person (an examiner confirming a band or
    biographic identity; an officer or supervisor deciding); ``done`` is the end.
    """

    criminal_history = "criminal_history"
    ident = "ident"
    biographic = "biographic"
    lesc = "lesc"
    decide = "decide"
    verification = "verification"
    officer = "officer"
    act = "act"
    done = "done"


class VerificationMethod(enum.StrEnum):
    biometric = "biometric"  # a 1:N score in the verification band, or an ambiguous match
    biographic = "biographic"  # Splink linkage: no usable template


class VerificationState(enum.StrEnum):
    open = "open"
    confirmed = "confirmed"
    rejected = "rejected"


class Repository(enum.StrEnum):
    criminal_history = "criminal_history"
    immigration = "immigration"


class CaseState(enum.StrEnum):
    open = "open"  # awaiting a recommendation
    awaiting_officer = "awaiting_officer"
    awaiting_supervisor = "awaiting_supervisor"
    acted = "acted"  # officer (and supervisor where needed) decided
    closed = "closed"


class OfficerActionKind(enum.StrEnum):
    accept = "accept"  # the recommendation as computed
    override = "override"  # a different action, with a reason
    supervisor_approval = "supervisor_approval"
    supervisor_denial = "supervisor_denial"


class DetainerKind(enum.StrEnum):
    detainer = "detainer"
    conditional_detainer = "conditional_detainer"  # activated by a conviction (III.1)
    notification_request = "notification_request"


class DetainerState(enum.StrEnum):
    pending_condition = "pending_condition"  # conditional, charge not yet disposed
    active = "active"
    holding = "holding"  # release-eligible time reported, hold-until clock running
    custody = "custody"  # ICE assumed custody
    lifted = "lifted"
    lapsed = "lapsed"  # condition failed: dismissal / acquittal
    expired = "expired"  # hold-until passed without custody


class DetainerEventType(enum.StrEnum):
    issued = "issued"
    activated = "activated"
    release_eligible_reported = "release_eligible_reported"
    custody_assumed = "custody_assumed"
    lifted = "lifted"
    lapsed = "lapsed"
    expired = "expired"
    note = "note"
    #: the LEA reported the subject released (not to ICE); the detainer ends ``expired``
    released = "released"
    #: a release or custody reported after ``hold_until`` (IV rec. 5): the violation itself
    held_past_expiry = "held_past_expiry"


class NoticeKind(enum.StrEnum):
    submission_response = "submission_response"
    detainer_issued = "detainer_issued"
    notification_request = "notification_request"
    detainer_lifted = "detainer_lifted"
    case_update = "case_update"
    #: a conditional detainer became operative on a conviction (III rec. 1)
    detainer_activated = "detainer_activated"
    #: a hold reached ``hold_until`` without ICE custody: the LEA may no longer hold on it
    detainer_expired = "detainer_expired"


class Modality(enum.StrEnum):
    fingerprint = "fingerprint"
    face = "face"
    iris = "iris"


class OrderKind(enum.StrEnum):
    removal = "removal"
    expedited_removal = "expedited_removal"
    reinstatement = "reinstatement"
    voluntary_departure = "voluntary_departure"


class RawKind(enum.StrEnum):
    text = "text"  # the input arrived as text (str)
    bytes = "bytes"  # the input arrived as bytes (decoded with surrogateescape)


class RawEncoding(enum.StrEnum):
    verbatim = "verbatim"  # raw_text is the input itself
    escaped = (
        "escaped"  # see repositories.escape_raw: \\ -> \\\\, NUL -> \\0, lone surrogate -> \\uXXXX
    )


# --------------------------------------------------------------------------- reference data


class Jurisdiction(Base):
    """A participating law-enforcement jurisdiction, keyed by its ORI.

    Holds what the pipeline needs to route and filter: the facility time zone (detainer clock),
    the Secure Communities activation date, the disclosure preference (what the LEA asked to be
    told, IV rec. 3), whether it honors detainers, and the programs active there (I rec. 3).
    Written by the jurisdiction loader / administrators.
    """

    __tablename__ = "jurisdictions"

    ori: Mapped[str] = mapped_column(String(ORI_LEN), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))
    county_fips: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    activated_on: Mapped[date | None] = mapped_column(Date)
    disclosure: Mapped[Disclosure] = mapped_column(
        _enum(Disclosure, "disclosure"), default=Disclosure.full
    )
    honors_detainers: Mapped[bool] = mapped_column(Boolean, default=True)
    #: list of :class:`~securecomm.law.schema.Program` values
    programs_active: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)

    __table_args__ = (Index(None, "state", "county_fips"),)


# --------------------------------------------------------------------------- intake


class Submission(Base):
    """A booking submission as received from an LEA, idempotent on its TCN.

    ``payload`` is the submission exactly as accepted; ``payload_sha256`` is the SHA-256 of its
    canonical JSON, used to tell a harmless resubmission from a conflicting reuse of a TCN.
    ``state`` is the pipeline's progress (a work queue: index on state, received_at) and
    ``stage`` the next pipeline step (:class:`PipelineStage`).
    Written by intake (:func:`~securecomm.store.repositories.submit_submission`).
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tcn: Mapped[str] = mapped_column(String(TCN_MAX), unique=True)
    ori: Mapped[str] = _ori_fk()
    payload: Mapped[dict] = mapped_column(JSONType)
    payload_sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[SubmissionState] = mapped_column(
        _enum(SubmissionState, "submission_state"), default=SubmissionState.received
    )
    state_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    error: Mapped[str | None] = mapped_column(Text)
    #: the next pipeline step (a work queue per stage: index on stage, id)
    stage: Mapped[PipelineStage] = mapped_column(
        _enum(PipelineStage, "pipeline_stage"),
        default=PipelineStage.criminal_history,
        server_default=PipelineStage.criminal_history.value,
    )

    __table_args__ = (
        Index(None, "state", "received_at"),
        Index(None, "ori", "received_at"),
        Index(None, "stage", "id"),
    )


class Booking(Base):
    """The booking a submission carries: when and where, biographics as submitted, and the
    FBI identity the criminal-history check resolved (``fbi_number``). One per submission.
    Written by intake; ``fbi_number`` and ``release_eligible_at`` later by the pipeline.
    """

    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"), unique=True)
    ori: Mapped[str] = _ori_fk()
    booking_number: Mapped[str | None] = mapped_column(String(64))
    booked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    arrested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    release_eligible_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: names, birth date, sex, place of birth as submitted (not verified)
    biographics: Mapped[dict] = mapped_column(JSONType, default=dict)
    fbi_number: Mapped[str | None] = mapped_column(
        String(16), ForeignKey("ch_subjects.fbi_number"), index=True
    )

    __table_args__ = (Index(None, "ori", "booked_at"),)


class Charge(Base):
    """A charge of a booking, in submission order (``position``), with its disposition.
    Written by intake; ``disposition`` / ``disposed_on`` later by the lifecycle.
    """

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    booking_id: Mapped[int] = mapped_column(BigId, ForeignKey("bookings.id"))
    position: Mapped[int] = mapped_column(Integer)
    ncic: Mapped[str] = mapped_column(String(4))
    literal: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
    injury: Mapped[bool] = mapped_column(Boolean, default=False)
    domestic_violence: Mapped[bool] = mapped_column(Boolean, default=False)
    disposition: Mapped[Disposition] = mapped_column(
        _enum(Disposition, "disposition"), default=Disposition.pending
    )
    disposed_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("booking_id", "position"),)


class RejectedInput(Base):
    """Input that could not be accepted, kept with the reasons (DESIGN 8: never dropped).

    ``raw_text`` holds the input as received up to
    :data:`~securecomm.store.repositories.RAW_TEXT_MAX` characters (``truncated`` and
    ``raw_length`` say if more came). Text the database cannot hold (NUL, lone surrogates, or
    bytes that are not UTF-8) is stored ``escaped``: see
    :func:`~securecomm.store.repositories.escape_raw` / ``unescape_raw``. ``raw_sha256`` is over
    the whole original input. Written by any intake path
    (:func:`~securecomm.store.repositories.reject_input`).
    """

    __tablename__ = "rejected_inputs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source: Mapped[str] = mapped_column(String(SOURCE_MAX))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    raw_kind: Mapped[RawKind] = mapped_column(_enum(RawKind, "raw_kind"))
    raw_encoding: Mapped[RawEncoding] = mapped_column(_enum(RawEncoding, "raw_encoding"))
    raw_text: Mapped[str] = mapped_column(Text)
    raw_length: Mapped[int] = mapped_column(BigId)
    raw_sha256: Mapped[str] = mapped_column(String(HASH_HEX), index=True)
    truncated: Mapped[bool] = mapped_column(Boolean, default=False)
    #: list of {"field": ..., "message": ...} (anything JSON-able; sanitised)
    errors: Mapped[list] = mapped_column(JSONType, default=list)

    __table_args__ = (Index(None, "source", "received_at"), Index(None, "received_at"))


# --------------------------------------------------------------------------- criminal history


class ChSubject(Base):
    """A person known to the criminal-history repository, keyed by FBI number (UCN).
    Written by the criminal-history adapter (synthetic here).
    """

    __tablename__ = "ch_subjects"

    fbi_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    birth_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)


class ChArrest(Base):
    """An arrest on a RAP sheet: date, arresting agency ORI (any agency, not only
    participating jurisdictions), the TCN of its booking when known, charges as recorded.
    """

    __tablename__ = "ch_arrests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fbi_number: Mapped[str] = mapped_column(String(16), ForeignKey("ch_subjects.fbi_number"))
    arrested_on: Mapped[date] = mapped_column(Date)
    arresting_ori: Mapped[str] = mapped_column(String(ORI_LEN))
    tcn: Mapped[str | None] = mapped_column(String(TCN_MAX))
    #: list of {"ncic", "literal", "severity"}
    charges: Mapped[list] = mapped_column(JSONType, default=list)

    __table_args__ = (Index(None, "fbi_number", "arrested_on"),)


class ChConviction(Base):
    """A conviction on a RAP sheet, with the facts the policy engine reads (Conviction v1)."""

    __tablename__ = "ch_convictions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fbi_number: Mapped[str] = mapped_column(
        String(16), ForeignKey("ch_subjects.fbi_number"), index=True
    )
    arrest_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ch_arrests.id"))
    ncic: Mapped[str] = mapped_column(String(4))
    literal: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[Severity] = mapped_column(_enum(Severity, "severity"))
    convicted_on: Mapped[date | None] = mapped_column(Date)
    incident_id: Mapped[str | None] = mapped_column(String(64))
    sentence_days: Mapped[int | None] = mapped_column(Integer)
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    aggravated_felony: Mapped[bool | None] = mapped_column(Boolean)
    counsel: Mapped[Counsel | None] = mapped_column(_enum(Counsel, "counsel"))
    gang_element: Mapped[bool] = mapped_column(Boolean, default=False)
    domestic_violence: Mapped[bool] = mapped_column(Boolean, default=False)


class ChWarrant(Base):
    """An outstanding (or cleared) criminal warrant."""

    __tablename__ = "ch_warrants"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fbi_number: Mapped[str] = mapped_column(String(16), ForeignKey("ch_subjects.fbi_number"))
    issued_on: Mapped[date] = mapped_column(Date)
    issuing_ori: Mapped[str] = mapped_column(String(ORI_LEN))
    ncic: Mapped[str | None] = mapped_column(String(4))
    literal: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    cleared_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (Index(None, "fbi_number", "active"),)


class ChBiometric(Base):
    """A criminal-history subject's biometric template (the FBI side's own capture), stored as
    :class:`Biometric` stores them; the criminal-history 1:N gallery is rebuilt from it.
    """

    __tablename__ = "ch_biometrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fbi_number: Mapped[str] = mapped_column(
        String(16), ForeignKey("ch_subjects.fbi_number"), index=True
    )
    model: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    template: Mapped[bytes] = mapped_column(LargeBinary)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("dim > 0 AND length(template) = 4 * dim", name="template_dim"),
    )


# --------------------------------------------------------------------------- immigration


class ImmSubject(Base):
    """A person known to the immigration biometric repository, keyed by FIN.

    Current status (denormalised from ``imm_status_history``) and the entry facts the LESC
    status determination reports (Person v1). Written by the immigration adapter.
    """

    __tablename__ = "imm_subjects"

    fin: Mapped[str] = mapped_column(String(20), primary_key=True)
    a_number: Mapped[str | None] = mapped_column(String(12), index=True)
    citizenship_status: Mapped[CitizenshipStatus] = mapped_column(
        _enum(CitizenshipStatus, "citizenship_status"), default=CitizenshipStatus.unknown
    )
    entry: Mapped[Entry] = mapped_column(_enum(Entry, "entry"), default=Entry.unknown)
    entered_us_on: Mapped[date | None] = mapped_column(Date)
    lpr_since: Mapped[date | None] = mapped_column(Date)
    #: list of :class:`~securecomm.law.schema.Relief` values
    pending_relief: Mapped[list] = mapped_column(JSONType, default=list)
    immigration_fraud: Mapped[bool] = mapped_column(Boolean, default=False)
    visa_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)


class Encounter(Base):
    """An encounter of a subject with immigration authorities: the name used and date of birth
    given then (names used across encounters are the aliases), other names given, where.
    """

    __tablename__ = "imm_encounters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"))
    encountered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64))
    location: Mapped[str | None] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    #: further names given at this encounter: list of {"family", "given"}
    other_names: Mapped[list] = mapped_column(JSONType, default=list)

    __table_args__ = (Index(None, "fin", "encountered_at"),)


class Biometric(Base):
    """A biometric template: ``dim`` float32 values, little-endian, as raw bytes
    (``numpy.frombuffer(template, "<f4")``). ``model`` names the feature extractor, since only
    templates of one model are comparable. A CHECK keeps ``length(template) = 4 * dim``.
    """

    __tablename__ = "imm_biometrics"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"), index=True)
    encounter_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("imm_encounters.id"))
    modality: Mapped[Modality] = mapped_column(
        _enum(Modality, "modality"), default=Modality.fingerprint
    )
    position: Mapped[int | None] = mapped_column(SmallInteger)
    model: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    template: Mapped[bytes] = mapped_column(LargeBinary)
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("dim > 0 AND length(template) = 4 * dim", name="template_dim"),
    )


class StatusHistory(Base):
    """Each immigration status a subject has held, from when, and the source of the record."""

    __tablename__ = "imm_status_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"))
    status: Mapped[CitizenshipStatus] = mapped_column(
        _enum(CitizenshipStatus, "citizenship_status")
    )
    effective_on: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)

    __table_args__ = (Index(None, "fin", "recorded_at"),)


class ImmOrder(Base):
    """An order (of removal, reinstatement, voluntary departure): when, and whether final."""

    __tablename__ = "imm_orders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"), index=True)
    kind: Mapped[OrderKind] = mapped_column(_enum(OrderKind, "order_kind"))
    ordered_on: Mapped[date] = mapped_column(Date)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    final_on: Mapped[date | None] = mapped_column(Date)


class ImmRemoval(Base):
    """A removal carried out (a prior removal matters to priority 2, Morton 2011)."""

    __tablename__ = "imm_removals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"), index=True)
    order_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("imm_orders.id"))
    removed_on: Mapped[date] = mapped_column(Date)


# --------------------------------------------------------------------------- matching


class Hit(Base):
    """A match of a submission in one repository: exactly one of ``fbi_number`` (criminal
    history) or ``fin`` (immigration) is set, as ``repository`` says; ``rank`` 1 is the best.
    Written by the criminal-history check and the IDENT 1:N search.
    """

    __tablename__ = "hits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"))
    repository: Mapped[Repository] = mapped_column(_enum(Repository, "repository"))
    fbi_number: Mapped[str | None] = mapped_column(String(16), ForeignKey("ch_subjects.fbi_number"))
    fin: Mapped[str | None] = mapped_column(String(20), ForeignKey("imm_subjects.fin"), index=True)
    score: Mapped[float | None] = mapped_column(Float)
    rank: Mapped[int] = mapped_column(SmallInteger, default=1)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("submission_id", "repository", "rank"),
        CheckConstraint(
            "(repository = 'criminal_history' AND fbi_number IS NOT NULL AND fin IS NULL)"
            " OR (repository = 'immigration' AND fin IS NOT NULL AND fbi_number IS NULL)",
            name="one_subject",
        ),
    )


class IdentityVerification(Base):
    """A verification task: an identity the pipeline may not act on until a person confirms
    it -- a 1:N score in the verification band (or an ambiguous match), or a biographic
    (Splink) candidate. Holds the candidates with their scores, the best ``fin``, the case
    opened for it, and the examiner's resolution. One per submission.
    Written by the IDENT / biographic stages; resolved by the field office (audited).
    """

    __tablename__ = "identity_verifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(BigId, ForeignKey("submissions.id"), unique=True)
    case_id: Mapped[str | None] = mapped_column(
        String(CASE_ID_MAX), ForeignKey("cases.case_id"), index=True
    )
    method: Mapped[VerificationMethod] = mapped_column(
        _enum(VerificationMethod, "verification_method")
    )
    fin: Mapped[str] = mapped_column(String(20), ForeignKey("imm_subjects.fin"))
    score: Mapped[float] = mapped_column(Float)
    #: list of {"fin", "score"}, best first
    candidates: Mapped[list] = mapped_column(JSONType, default=list)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[VerificationState] = mapped_column(
        _enum(VerificationState, "verification_state"), default=VerificationState.open
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    resolution_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index(None, "state", "opened_at"),)


# --------------------------------------------------------------------------- field office


class CaseRecord(Base):
    """A field-office case: the Case v1 document as last evaluated (``case_json``, with its
    canonical SHA-256), the originating program, and the worklist state.
    Written by the pipeline (LESC status determination opens it).
    """

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(CASE_ID_MAX), primary_key=True)
    submission_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("submissions.id"), unique=True
    )
    hit_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("hits.id"))
    fin: Mapped[str | None] = mapped_column(String(20), ForeignKey("imm_subjects.fin"), index=True)
    ori: Mapped[str] = _ori_fk()
    program: Mapped[Program] = mapped_column(_enum(Program, "program"))
    state: Mapped[CaseState] = mapped_column(_enum(CaseState, "case_state"), default=CaseState.open)
    case_json: Mapped[dict] = mapped_column(JSONType)
    case_sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)

    # --- migration 0006 (final action; criminal history once per case) -------------------
    #: THE final action on the case: what the officer action that released it chose (an
    #: accept, an override needing no supervisor, a supervisor's approval, an automatic
    #: acceptance). Written once, by :func:`~securecomm.store.repositories.set_final_actions`
    #: (audited ``case.final_action``); LEA notices, detainer lodging and the statistics read
    #: it. None until an officer decision releases the case.
    final_action: Mapped[Action | None] = mapped_column(_enum(Action, "final_action"))
    final_action_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the officer action whose choice it is (checked by ``set_final_actions``; not a
    #: foreign key: officer_actions already references cases, and a cycle between the two
    #: tables would make every bulk delete order-dependent)
    final_officer_action_id: Mapped[int | None] = mapped_column(BigId)
    #: the criminal history (RAP sheet as of the booking date) read once when the case was
    #: opened; later stages read it from here instead of asking the FBI side again
    criminal_history: Mapped[dict | None] = mapped_column(JSONType)
    # --- end migration 0006 ---------------------------------------------------------------

    __table_args__ = (
        Index(None, "state", "opened_at"),
        Index(None, "ori", "opened_at"),
    )


class DecisionRecord(Base):
    """A policy recommendation: the whole Decision v1 (``decision``), the policy and version
    that produced it, and the case document it was computed from (``case_sha256``). Unique per
    (case, policy, version, case document): recomputing is idempotent. The action, priority,
    level and supervisor flag are copied out for worklists and statistics.
    Written by :func:`~securecomm.store.repositories.record_decision` (audited).
    """

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(CASE_ID_MAX), ForeignKey("cases.case_id"))
    policy: Mapped[str] = mapped_column(String(POLICY_MAX))
    policy_version: Mapped[str] = mapped_column(String(POLICY_MAX))
    case_sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    decision: Mapped[dict] = mapped_column(JSONType)
    decision_sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    action: Mapped[Action] = mapped_column(_enum(Action, "action"))
    priority: Mapped[str | None] = mapped_column(String(1))
    level: Mapped[int | None] = mapped_column(SmallInteger)
    requires_supervisor_approval: Mapped[bool] = mapped_column(Boolean)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)

    __table_args__ = (
        UniqueConstraint("case_id", "policy", "policy_version", "case_sha256"),
        Index(None, "policy", "action"),
    )


class OfficerAction(Base):
    """What an officer (or supervisor) did with a recommendation: accept it, or override it
    with a reason (an override without a reason is refused by a CHECK); a supervisor's
    approval or denial. Written by the field-office workflow (audited).
    """

    __tablename__ = "officer_actions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(CASE_ID_MAX), ForeignKey("cases.case_id"))
    decision_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("decisions.id"))
    kind: Mapped[OfficerActionKind] = mapped_column(_enum(OfficerActionKind, "officer_action_kind"))
    chosen_action: Mapped[Action | None] = mapped_column(_enum(Action, "chosen_action"))
    officer: Mapped[str] = mapped_column(String(ACTOR_MAX))
    reason: Mapped[str | None] = mapped_column(Text)
    acted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "case_id", "acted_at"),
        CheckConstraint("kind <> 'override' OR reason IS NOT NULL", name="override_reason"),
    )


class CaseFact(Base):
    """A fact about a case that the repositories do not hold (a Case v1 ``flags`` name of
    :data:`CASE_FACT_NAMES`), with who asserted it (``source``) and who recorded it.
    Append-only: a retraction is a new row with ``value`` false; the latest row per
    (case, fact) is in force. ``case_id`` is the case the fact is for (``C-<TCN>``) and
    deliberately not a foreign key: a certification may be recorded before the booking is
    processed, and the LESC stage reads it when it opens the case.
    Written by :func:`~securecomm.store.repositories.record_case_facts` (audited).
    """

    __tablename__ = "case_facts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[str] = mapped_column(String(CASE_ID_MAX))
    fact: Mapped[str] = mapped_column(String(40))
    value: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(FACT_SOURCE_MAX))
    recorded_by: Mapped[str] = mapped_column(String(ACTOR_MAX))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index(None, "case_id", "recorded_at"),
        CheckConstraint(
            "fact IN (" + ", ".join(f"'{f}'" for f in CASE_FACT_NAMES) + ")", name="case_fact"
        ),
        CheckConstraint("length(source) > 0", name="case_fact_source"),
    )


# --------------------------------------------------------------------------- detainers


class Detainer(Base):
    """A detainer (unconditional or conditional) or notification request lodged with the
    facility of ``ori``; ``hold_until`` is the 8 CFR 287.7(d) clock once release-eligible time
    is reported (indexed: the expiry worklist). Written by the detainer lifecycle (audited
    through its events).
    """

    __tablename__ = "detainers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[str] = mapped_column(
        String(CASE_ID_MAX), ForeignKey("cases.case_id"), index=True
    )
    officer_action_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("officer_actions.id"))
    ori: Mapped[str] = _ori_fk()
    kind: Mapped[DetainerKind] = mapped_column(_enum(DetainerKind, "detainer_kind"))
    state: Mapped[DetainerState] = mapped_column(_enum(DetainerState, "detainer_state"))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    release_eligible_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow, onupdate=_utcnow)
    #: the policy the hold clock follows (pack name or variant file) and its version, as
    #: resolved at lodge; None for rows lodged before migration 0003 (read from the event)
    policy: Mapped[str | None] = mapped_column(String(POLICY_REF_MAX))
    policy_version: Mapped[str | None] = mapped_column(String(POLICY_MAX))

    # one detainer per case and kind: the lifecycle's idempotency key, enforced by the
    # database (a unique index: see migration 0003 for why not a table constraint)
    __table_args__ = (Index(None, "ori", "state"), Index(None, "case_id", "kind", unique=True))


class DetainerEvent(Base):
    """The lifecycle of a detainer, one row per event, in the order they occurred."""

    __tablename__ = "detainer_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    detainer_id: Mapped[int] = mapped_column(BigId, ForeignKey("detainers.id"))
    event_type: Mapped[DetainerEventType] = mapped_column(
        _enum(DetainerEventType, "detainer_event_type")
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    details: Mapped[dict] = mapped_column(JSONType, default=dict)

    __table_args__ = (Index(None, "detainer_id", "occurred_at"),)


# --------------------------------------------------------------------------- notices


class Notice(Base):
    """A message to an LEA, with exactly what was disclosed (``content``, already filtered by
    the jurisdiction's disclosure preference). ``idempotency_key`` (computed by the pipeline
    from what the notice is about) makes a resumed run send nothing twice.
    Written by the notifier (audited: a disclosure).
    """

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ori: Mapped[str] = _ori_fk()
    case_id: Mapped[str | None] = mapped_column(
        String(CASE_ID_MAX), ForeignKey("cases.case_id"), index=True
    )
    submission_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("submissions.id"))
    detainer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("detainers.id"))
    kind: Mapped[NoticeKind] = mapped_column(_enum(NoticeKind, "notice_kind"))
    idempotency_key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX), unique=True)
    content: Mapped[dict] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "ori", "created_at"),)


# --------------------------------------------------------------------------- audit


class AuditEntry(Base):
    """One entry of the append-only, hash-chained audit log (see :mod:`securecomm.store.audit`).

    ``subject`` and ``payload`` are canonical JSON *text*, hashed exactly as stored.
    ``entry_hash = sha256(prev_hash || canonical entry)``; ``seq`` starts at 1 with no gaps.
    ``case_id`` copies ``subject["case_id"]`` for per-case timelines (and is hashed too).
    Written only by :func:`securecomm.store.audit.append`.
    """

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    event_type: Mapped[str] = mapped_column(String(EVENT_TYPE_MAX))
    case_id: Mapped[str | None] = mapped_column(String(CASE_ID_MAX), index=True)
    subject: Mapped[str] = mapped_column(Text)
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    entry_hash: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    #: (0005) canonical JSON list of the row states this entry produced (see
    #: :mod:`securecomm.store.rowstate`); hashed with the entry when not NULL
    rows: Mapped[str | None] = mapped_column(Text)


class AuditHead(Base):
    """The single row (``id = 1``) that appenders lock to serialise appends: the log's size and
    last entry hash. Created by the initial migration.
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: (0005) the Merkle compact range of the log (JSON: size and peak hashes), so a tree
    #: head is computed at append time in O(log n); rebuilt from the entries when stale
    frontier: Mapped[str | None] = mapped_column(Text)
    #: (0005) size and time of the last tree head taken (the automatic checkpoint clock)
    checkpoint_size: Mapped[int | None] = mapped_column(BigId)
    checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)


class AuditCheckpoint(Base):
    """A tree head: the RFC 6962 Merkle root over the first ``tree_size`` entry hashes, when
    it was taken (to the millisecond), and (if a key is configured) an Ed25519 ``signature``
    (base64) over the RFC 6962 TreeHeadSignature by the key ``key_id`` (0005; see
    :mod:`securecomm.store.treeheads`). Verification recomputes every checkpoint: the log may
    only have grown since. Written by :mod:`securecomm.store.audit` (automatically every N
    entries / M minutes, and by ``securecomm audit head``).
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigId, unique=True)
    root_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    signature: Mapped[str | None] = mapped_column(String(128))
    key_id: Mapped[str | None] = mapped_column(String(HASH_HEX))


# --------------------------------------------------------------------------- users (0005)
# Integrity, issue 9 item 2 / issue 10 item 2: the people who act on the system. Written only
# by securecomm.users.service (audited). Kept in one block to limit merge conflicts.

#: The roles of :mod:`securecomm.users.service` (frozen in migration 0005's CHECK).
USER_ROLES = ("lea", "lea_system", "ice_officer", "ice_supervisor", "crcl", "panel", "admin")
USER_NAME_MAX = 64
AREA_CODE_MAX = 8


class User(Base):
    """A registered user: ``name`` (NFKC, case-folded; see :mod:`securecomm.users.names`)
    and its UTS #39 confusable ``skeleton``, both UNIQUE, so two look-alike names cannot both
    exist; the role; an argon2id ``password_hash`` (None: no password login); the SHA-256 of
    the current API key (None: none issued); ``disabled_at`` (a disabled user is never
    deleted: audit entries name them). Scope: :class:`UserJurisdiction` (ORIs, for ``lea`` and
    ``lea_system``) and :class:`UserArea` (ICE areas of responsibility, for ICE roles).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(USER_NAME_MAX), unique=True)
    skeleton: Mapped[str] = mapped_column(String(4 * USER_NAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    api_key_sha256: Mapped[str | None] = mapped_column(String(HASH_HEX), unique=True)
    api_key_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=_utcnow)
    created_by: Mapped[str] = mapped_column(String(ACTOR_MAX))
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in USER_ROLES) + ")", name="user_role"
        ),
    )


class UserJurisdiction(Base):
    """A jurisdiction (ORI) whose records a ``lea`` / ``lea_system`` user may see and write."""

    __tablename__ = "user_jurisdictions"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    ori: Mapped[str] = mapped_column(
        String(ORI_LEN), ForeignKey("jurisdictions.ori"), primary_key=True
    )


class UserArea(Base):
    """An ICE ERO area of responsibility (``SEA``, ``LOS`` ...) an ICE user works."""

    __tablename__ = "user_areas"

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    area: Mapped[str] = mapped_column(String(AREA_CODE_MAX), primary_key=True)


# =========================================================================== oversight
# Complaints (IV rec. 4) and the independent panel's sample (IV rec. 6): migration 0008.
# Written only through :mod:`securecomm.store.oversight_repo` (every write audited).

COMPLAINT_TEXT_MAX = 20000
RECEIPT_MAX = 20
PERIOD_MAX = 16


class ComplaintChannel(enum.StrEnum):
    web = "web"  # the public form (no account)
    phone = "phone"
    paper = "paper"
    email = "email"


class ComplaintCategory(enum.StrEnum):
    profiling_or_pretextual_arrest = "profiling_or_pretextual_arrest"
    us_citizen_held = "us_citizen_held"
    held_past_detainer_limit = "held_past_detainer_limit"
    victim_or_witness_detained = "victim_or_witness_detained"
    language_access = "language_access"
    other = "other"


class ComplaintLanguage(enum.StrEnum):
    """The six notice languages (``interop/locale``)."""

    en = "en"
    es = "es"
    fr = "fr"
    pt = "pt"
    zh_Hans = "zh_Hans"
    vi = "vi"


class ComplaintStage(enum.StrEnum):
    received = "received"
    acknowledged = "acknowledged"
    assigned = "assigned"
    investigating = "investigating"
    resolved = "resolved"
    referred = "referred"
    closed = "closed"


class ComplaintEventType(enum.StrEnum):
    filed = "filed"
    stage_changed = "stage_changed"
    linked = "linked"
    note = "note"
    deadline_breached = "deadline_breached"


class ComplaintLinkKind(enum.StrEnum):
    booking = "booking"  # a submission's TCN
    case = "case"
    detainer = "detainer"
    jurisdiction = "jurisdiction"


class PanelFinding(enum.StrEnum):
    adherent = "adherent"
    deviation = "deviation"
    unable_to_determine = "unable_to_determine"


class Complaint(Base):
    """A complaint to CRCL (IV rec. 4): what it is about, where it stands, when the current
    stage is due. The complainant's identity is *not* here (``complaint_identities``) and the
    narrative is shown only to the ``crcl`` role (``oversight.complaints.view``)."""

    __tablename__ = "complaints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    receipt_code: Mapped[str] = mapped_column(String(RECEIPT_MAX), unique=True)
    channel: Mapped[ComplaintChannel] = mapped_column(_enum(ComplaintChannel, "complaint_channel"))
    category: Mapped[ComplaintCategory] = mapped_column(
        _enum(ComplaintCategory, "complaint_category")
    )
    language: Mapped[ComplaintLanguage] = mapped_column(
        _enum(ComplaintLanguage, "complaint_language")
    )
    narrative: Mapped[str] = mapped_column(Text)
    anonymous: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[ComplaintStage] = mapped_column(_enum(ComplaintStage, "complaint_stage"))
    assigned_to: Mapped[str | None] = mapped_column(String(ACTOR_MAX))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stage_entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: when the current stage must be left (None for the final stages)
    stage_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: resolution, referral or closure statement (public outcome text, no personal data)
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(ACTOR_MAX))

    __table_args__ = (Index(None, "stage", "stage_due_at"), Index(None, "category", "stage"))


class ComplaintIdentity(Base):
    """Who complained and how to reach them: visible to the ``crcl`` role only, never in an
    export. Absent for an anonymous complaint."""

    __tablename__ = "complaint_identities"

    complaint_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("complaints.id"), primary_key=True, autoincrement=False
    )
    name: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(500))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ComplaintLink(Base):
    """What a complaint is about: a booking (TCN), case, detainer or jurisdiction (ORI),
    each checked to exist when linked."""

    __tablename__ = "complaint_links"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id"))
    kind: Mapped[ComplaintLinkKind] = mapped_column(_enum(ComplaintLinkKind, "complaint_link_kind"))
    ref: Mapped[str] = mapped_column(String(CASE_ID_MAX))

    __table_args__ = (UniqueConstraint("complaint_id", "kind", "ref"),)


class ComplaintEvent(Base):
    """A complaint's timeline, one row per event. ``breach_stage`` is set only on a
    ``deadline_breached`` event: unique per complaint, so a breach is recorded once."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    complaint_id: Mapped[int] = mapped_column(BigId, ForeignKey("complaints.id"))
    event_type: Mapped[ComplaintEventType] = mapped_column(
        _enum(ComplaintEventType, "complaint_event_type")
    )
    stage_from: Mapped[ComplaintStage | None] = mapped_column(
        _enum(ComplaintStage, "complaint_event_stage_from")
    )
    stage_to: Mapped[ComplaintStage | None] = mapped_column(
        _enum(ComplaintStage, "complaint_event_stage_to")
    )
    breach_stage: Mapped[str | None] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(ACTOR_MAX))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)

    __table_args__ = (
        Index(None, "complaint_id", "occurred_at"),
        UniqueConstraint("complaint_id", "breach_stage"),
    )


class PanelFrame(Base):
    """A published sampling frame: the SHA-256 of the frame file and the audit log's signed
    tree head when it was published -- before any seed exists (IV rec. 6)."""

    __tablename__ = "panel_frames"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    period: Mapped[str] = mapped_column(String(PERIOD_MAX))
    frame_sha256: Mapped[str] = mapped_column(String(HASH_HEX), unique=True)
    case_count: Mapped[int] = mapped_column(Integer)
    tree_size: Mapped[int] = mapped_column(BigId)
    root_hash: Mapped[str] = mapped_column(String(HASH_HEX))
    #: the tree head's Ed25519 signature (base64), as in ``audit_checkpoints``
    signature: Mapped[str | None] = mapped_column(String(128))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_by: Mapped[str] = mapped_column(String(ACTOR_MAX))


class PanelDraw(Base):
    """A recorded draw from a published frame: the seed, the sampling parameters and the
    SHA-256 of the sample. ``pseudonym_key`` makes the per-draw pseudonyms and never leaves
    the store (a pseudonym must not be computable from the public frame and seed)."""

    __tablename__ = "panel_draws"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    frame_id: Mapped[int] = mapped_column(BigId, ForeignKey("panel_frames.id"))
    seed: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    #: {"stratify_by": [...], "allocation": ..., "prior_rates": {...}}
    parameters: Mapped[dict] = mapped_column(JSONType)
    sample_sha256: Mapped[str] = mapped_column(String(HASH_HEX))
    pseudonym_key: Mapped[str] = mapped_column(String(HASH_HEX))
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drawn_by: Mapped[str] = mapped_column(String(ACTOR_MAX))

    __table_args__ = (UniqueConstraint("frame_id", "seed", "sample_sha256"),)


class PanelSampleCase(Base):
    """One case of a draw, in sampling order, with its ticket, stratum and pseudonym."""

    __tablename__ = "panel_sample"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    draw_id: Mapped[int] = mapped_column(BigId, ForeignKey("panel_draws.id"))
    position: Mapped[int] = mapped_column(Integer)
    case_id: Mapped[str] = mapped_column(String(CASE_ID_MAX), ForeignKey("cases.case_id"))
    ticket: Mapped[str] = mapped_column(String(100))
    stratum: Mapped[str] = mapped_column(String(200))
    pseudonym: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("draw_id", "case_id"),
        UniqueConstraint("draw_id", "pseudonym"),
        UniqueConstraint("draw_id", "position"),
    )


class PanelFindingRecord(Base):
    """A panel member's finding on a sampled case: the checklist answers and a finding.
    Append-only; the latest per (sample case, reviewer) is in force."""

    __tablename__ = "panel_findings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sample_id: Mapped[int] = mapped_column(BigId, ForeignKey("panel_sample.id"))
    reviewer: Mapped[str] = mapped_column(String(ACTOR_MAX))
    #: {checklist item id: "yes" | "no" | "n/a"}
    checklist: Mapped[dict] = mapped_column(JSONType)
    finding: Mapped[PanelFinding] = mapped_column(_enum(PanelFinding, "panel_finding"))
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "sample_id", "recorded_at"),)


class PanelResponse(Base):
    """ICE's response to a finding (tracked: the report shows findings still unanswered)."""

    __tablename__ = "panel_responses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    finding_id: Mapped[int] = mapped_column(BigId, ForeignKey("panel_findings.id"))
    responder: Mapped[str] = mapped_column(String(ACTOR_MAX))
    response: Mapped[str] = mapped_column(Text)
    corrective_action: Mapped[bool] = mapped_column(Boolean)
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index(None, "finding_id", "responded_at"),)


__all__ += [  # the oversight block, kept apart to limit merge conflicts
    "Complaint",
    "ComplaintCategory",
    "ComplaintChannel",
    "ComplaintEvent",
    "ComplaintEventType",
    "ComplaintIdentity",
    "ComplaintLanguage",
    "ComplaintLink",
    "ComplaintLinkKind",
    "ComplaintStage",
    "PanelDraw",
    "PanelFinding",
    "PanelFindingRecord",
    "PanelFrame",
    "PanelResponse",
    "PanelSampleCase",
]
