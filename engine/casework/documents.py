"""Legal documents: generated when a task that names them is completed, numbered per issuing
agency, series and year (东市监移〔2026〕3号), fixed at generation, and read under the policy.

A decision our agencies used to number by hand (the police's 立案决定书) is a document kind too:
its number is taken from the same counters when the deciding task completes, in that task's
transaction (a refused or failed completion rolls the counter back with everything else), and is
written into the task's result under the kind's `number_field`, where the form may instead carry
a number the decision got outside the system (checked, and audited as `document_number_entered`).

A user task names its documents with the `documents` property:
`transfer_letter` or, when the choice depends on the decision,
`filing_notice if filing_decision == "file"; non_filing_notice if filing_decision == "not_file"`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from engine.access import audit, policy
from engine.errors import InvalidInput, NotFound
from engine.runtime.held import as_loaded
from engine.runtime.sql import per_dialect
from engine.runtime.transactions import transaction
from engine.time.clock import now
from models import Agency, Document, DocumentCounter, HumanTask, HumanTaskState, User

NUMBER_ZONE = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Kind:
    title: str
    # None: the agency of the task that issues it, for mechanisms any agency may run.
    issuer: str | None
    recipient: str | None
    series: str
    copy_to: tuple[str, ...] = ()
    # The steps (BPMN ids) whose results the document carries; None for every step. A document
    # sent to another agency names what it may carry, not all the issuer wrote.
    steps: tuple[str, ...] | None = None
    # The form field that records the number on the deciding task's result; when the user filled
    # it in (a decision numbered outside the system), that number is used instead of the counter.
    number_field: str | None = None


# DOMAIN.md "Documents" and §1/§1b. The series character follows local numbering practice.
KINDS: dict[str, Kind] = {
    "transfer_letter": Kind("涉嫌犯罪案件移送书", "samr", "police", "移", ("procuratorate",)),
    # Police documents carry the police's own steps only, not the facts SAMR registered.
    "receipt": Kind("接受移送案件回执", "police", "samr", "收", steps=("accept_receipt",)),
    "supplement_request": Kind("补充材料通知书", "police", "samr", "补", steps=("accept_receipt",)),
    # Only the police decision goes to SAMR, never the review notes or, when filed on the
    # procuratorate's notice, the supervision's internal steps.
    "filing_notice": Kind("立案通知书", "police", "samr", "立", steps=("decide_filing", "file_on_notice", "decide")),
    # The police's own decision to file (立案决定书), numbered by the system; the
    # 立案通知书 issued with it quotes its number. No recipient: it stays with the police.
    "filing_decision_record": Kind("立案决定书", "police", None, "立字",
                                   steps=("decide_filing", "file_on_notice", "decide_reconsideration"),
                                   number_field="filing_number"),
    "non_filing_notice": Kind("不予立案通知书", "police", "samr", "不立", steps=("decide_filing", "decide")),
    "reconsideration_decision": Kind("复议决定书", "police", "samr", "复",
                                     steps=("decide_reconsideration",)),
    # SAMR's objections to a 不予立案 (Decree 310 art. 9): reconsideration by the police, or filing
    # supervision by the procuratorate, after the reconsideration or directly.
    "reconsideration_request": Kind("提请复议书", "samr", "police", "复议", steps=("acknowledge_decision",)),
    "filing_supervision_proposal": Kind("立案监督建议书", "samr", "procuratorate", "监建",
                                        steps=("acknowledge_decision", "consider_supervision")),
    "explain_request": Kind("要求说明不立案理由通知书", "procuratorate", "police", "要说",
                            steps=("examine_supervision",)),
    "filing_order": Kind("通知立案书", "procuratorate", "police", "通立",
                         steps=("explain_non_filing", "assess_explanation", "issue_filing_order")),
    # Police still not filing 15 days after the 通知立案书 (SPP Rules art. 564): a correction notice
    # to them, and a report to the next-level procuratorate (not an agency of the district: no recipient).
    "correction_notice": Kind("纠正违法通知书", "procuratorate", "police", "纠违",
                              steps=("issue_filing_order", "record_escalation"),
                              number_field="correction_notice_number"),
    "escalation_report": Kind("关于公安机关通知立案后逾期不立案的报告", "procuratorate", None, "立监报",
                              steps=("issue_filing_order", "record_escalation")),
    # Decree 310 art. 14: the procuratorate requires SAMR to transfer a case it should have.
    "transfer_opinion": Kind("检察意见书（要求移送）", "procuratorate", "samr", "检移意",
                             steps=("record_transfer_opinion",)),
    "procuratorial_opinion": Kind("检察意见书", "procuratorate", "samr", "检意",
                                  steps=("record_non_prosecution",)),
    # Reverse linkage started by the police: a case they will not pursue goes to SAMR for a penalty.
    "reverse_transfer_letter": Kind("移交行政处理函", "police", "samr", "移行",
                                    steps=("propose_reverse_transfer", "approve_reverse_transfer")),
    "handover_list": Kind("涉案物品交接单", "samr", "police", "交",
                          steps=("prepare_handover", "confirm_handover")),
    # Not filed: the police return the case files (Decree 310 art. 8); SAMR counts and signs.
    "returned_materials_receipt": Kind("退回案卷材料接收清单", "samr", "police", "退收",
                                       steps=("return_materials", "check_returned_materials")),
    # 案情会商 (DOMAIN §5): the convening agency, then each invited one, issues its own.
    "consultation_letter": Kind("案情会商函", None, None, "会商", steps=("propose_consultation",)),
    "consultation_reply": Kind("案情会商书面意见", None, None, "会复",
                               steps=("propose_consultation", "answer_consultation")),
    "consultation_minutes": Kind("案情会商纪要", None, None, "会纪",
                                 steps=("propose_consultation", "record_minutes")),
    # 维权联动 (DOMAIN §3): what the court needs to match the holder's application, not the secret.
    "civil_referral_letter": Kind("商业秘密民事保护通报函", "samr", "court", "民通", steps=("refer_civil",)),
    # 证据互认 (DOMAIN §2): the lists are built from the package's rows (engine/mechanisms/recognition.py).
    "electronic_data_list": Kind("电子数据清单", None, None, "电清", steps=()),
    "evidence_handover": Kind("证据材料交接单", None, None, "证交", steps=()),
    # 信息共享 (DOMAIN §4): SAMR copies a trade-secret penalty decision to police and procuratorate.
    "penalty_decision_copy": Kind("行政处罚决定书（抄送）", "samr", "police", "罚抄", ("procuratorate",),
                                  steps=("record_penalty_decision",)),
    # Notices a rights holder is owed (engine/casework/parties.py): addressed to the holder, a
    # party who is not an agency; each carries the deciding step only, and the holder's name.
    "complaint_decision_notice": Kind("投诉处理决定告知书", "samr", None, "投告", steps=("decide_filing",)),
    "administrative_result_notice": Kind("案件处理结果告知书", "samr", None, "结告", steps=("investigate",)),
    "preservation_outcome_notice": Kind("诉前行为保全申请处理结果通知书", "court", None, "保告",
                                        steps=("decide_preservation",)),
    "holder_non_filing_notice": Kind("不予立案通知书（控告人）", "police", None, "控不立",
                                     steps=("decide_holder_report",)),
    "holder_reconsideration_decision": Kind("复议决定书（控告人）", "police", None, "控复",
                                            steps=("decide_holder_reconsideration",)),
    # A reconsideration request received after the holder's 7 days and refused as out of time.
    "holder_late_request_refusal": Kind("逾期复议申请不予受理通知书", "police", None, "控逾",
                                        steps=("record_late_request", "decide_late_request")),
    "holder_supervision_reply": Kind("立案监督申请审查结论告知书", "procuratorate", None, "监告",
                                     steps=("examine_holder_request", "reply_to_holder")),
}

# Kinds whose content comes from domain tables rather than task results: kind -> function of
# (session, issuing task, the issuing step's workflow data or None when issued on request)
# giving extra content; its "recipient" (an agency code) names the recipient when that depends
# on the case. Registered by the module that owns the tables.
CONTENT_BUILDERS: dict[str, Any] = {}


@dataclass(frozen=True)
class DocumentRule:
    kind: str
    condition: str | None


def parse_documents(value: str) -> list[DocumentRule]:
    """Parse a `documents` property; ValueError names what is wrong (checked at deploy)."""
    rules = []
    for part in filter(None, (p.strip() for p in value.split(";"))):
        kind_text, _, condition_text = part.partition(" if ")
        kind, condition = kind_text.strip(), condition_text.strip() or None
        if kind not in KINDS:
            raise ValueError(f"unknown document kind '{kind}' (known: {', '.join(KINDS)})")
        if condition is not None:
            try:
                compile(condition, "<documents>", "eval")
            except SyntaxError as exc:
                raise ValueError(f"document condition '{condition}' is not an expression: {exc.msg}") from exc
        rules.append(DocumentRule(kind, condition))
    if not rules:
        raise ValueError("documents property is empty")
    return rules


def issue_for_task(session: Session, actor: User, task: HumanTask, spiff_task, value: str) -> list[Document]:
    """Issue the documents a completed task names whose condition holds (caller's transaction)."""
    engine = spiff_task.workflow.script_engine
    kinds = [rule.kind for rule in parse_documents(value)
             if not rule.condition or engine.evaluate(spiff_task, rule.condition)]
    if not kinds:
        return []
    # The instance's steps and the agencies are read once for all of them: issuing changes neither.
    prior = _prior_steps(session, task)
    codes = {code for name in kinds for code in _codes(KINDS[name], KINDS[name].recipient)}
    with session.no_autoflush:
        agencies = _agencies(session, codes, {})
    return [_issue(session, actor, task, kind_name, prior, agencies, spiff_task.data) for kind_name in kinds]


def issue_document(session: Session, actor: User, task: HumanTask, kind_name: str) -> Document:
    """Issue one document of a kind for a completed task, in the caller's transaction: for
    documents generated on request rather than by the task's `documents` property."""
    return _issue(session, actor, task, kind_name, _prior_steps(session, task), {}, None)


# Built once (every issue runs them), on the tables: the steps read as two columns, not as
# objects, and the rows written without the unit of work.
_DOCUMENTS, _COUNTERS, _TASKS = Document.__table__, DocumentCounter.__table__, HumanTask.__table__
_PRIOR_STEPS = (select(_TASKS.c.bpmn_id, _TASKS.c.result)
                .where(_TASKS.c.instance_id == bindparam("instance_id"),
                       _TASKS.c.state == HumanTaskState.COMPLETED)
                .order_by(_TASKS.c.completed_at, _TASKS.c.id))
_AGENCIES = select(Agency).where(Agency.code.in_(bindparam("codes", expanding=True)))
_DOCUMENT_COLUMNS = ("case_id", "instance_id", "task_id", "kind", "number", "issuing_agency_id",
                     "recipient_agency_id", "content", "generated_at", "generated_by_id")


def _take_counter(insert):
    """The series' next number in one statement: the counter row created at 1 or raised by one.
    Either way the row stays locked until commit, so concurrent issuers take turns."""
    key = [_COUNTERS.c.agency_id, _COUNTERS.c.series, _COUNTERS.c.year]
    return (insert(_COUNTERS).values(agency_id=bindparam("agency_id"), series=bindparam("series"),
                                     year=bindparam("year"), last=1)
            .on_conflict_do_update(index_elements=key, set_={"last": _COUNTERS.c.last + 1})
            .returning(_COUNTERS.c.last))


def _new_document(insert):
    """The document's row, unless another document has its number (no row then: the number is
    taken). A second document of the same kind for the task still fails, as it must."""
    values = {name: bindparam(f"doc_{name}", type_=_DOCUMENTS.c[name].type) for name in _DOCUMENT_COLUMNS}
    return (insert(_DOCUMENTS).values(values).on_conflict_do_nothing(index_elements=[_DOCUMENTS.c.number])
            .returning(_DOCUMENTS.c.id))


_NEXT_NUMBER, _NEW_DOCUMENT = per_dialect(_take_counter), per_dialect(_new_document)


def _prior_steps(session: Session, task: HumanTask) -> list[tuple[str, dict[str, Any] | None]]:
    """(step, result) of the instance's completed tasks, in the order they were completed."""
    return [(bpmn_id, result) for bpmn_id, result in session.execute(_PRIOR_STEPS, {"instance_id": task.instance_id})]


def _agencies(session: Session, codes: set[str], known: dict[str, Agency]) -> dict[str, Agency]:
    """`known` with the agencies of these codes it lacks read in (agencies are never pending)."""
    missing = codes.difference(known)
    if missing:
        known.update((agency.code, agency) for agency in session.scalars(_AGENCIES, {"codes": sorted(missing)}))
    return known


def _codes(kind: Kind, recipient: str | None) -> set[str]:
    """The agencies a document of the kind names: its issuer, recipient and those copied."""
    return {code for code in (kind.issuer, recipient, *kind.copy_to) if code}


def _issue(session: Session, actor: User, task: HumanTask, kind_name: str,
           prior: Sequence[tuple[str, dict[str, Any] | None]], known: dict[str, Agency],
           step_data: Mapping[str, Any] | None) -> Document:
    """Issue one document. `step_data`: the completing step's workflow data, for the content
    builders; given, the task is being completed, its new result held in memory until the
    completion's write (engine/runtime/step_write.py): a number recorded on it is held the same
    way, written with it rather than by an UPDATE of its own. None: issued on request."""
    kind = KINDS[kind_name]
    builder = CONTENT_BUILDERS.get(kind_name)
    extra = dict(builder(session, task, step_data)) if builder else {}
    recipient_code = extra.pop("recipient", kind.recipient)
    at = now(session)
    field = kind.number_field
    entered = (task.result or {}).get(field) if field else None
    # Nothing the statements below read or reference waits in the session to be flushed (agencies
    # are reference data, counters and documents are written by statements of their own): not
    # flushing lets a number recorded on the task's result be written with its completion.
    with session.no_autoflush:
        agencies = _agencies(session, _codes(kind, recipient_code), known)
        issuer = agencies[kind.issuer] if kind.issuer else task.agency
        recipient = agencies[recipient_code] if recipient_code else None
        dialect = session.get_bind().dialect.name
        while True:
            number = entered or _next_number(session, dialect, issuer, kind.series, at.astimezone(NUMBER_ZONE).year)
            # A kind with a `number_field` records its number on the task's result, where its own
            # steps and the documents issued after it in the same completion read it.
            result = {**(task.result or {}), field: number} if field else task.result
            content = {
                "title": kind.title,
                "case": {"number": task.case.number, "title": task.case.title},
                "issuer": issuer.name,
                "recipient": recipient.name if recipient else None,
                "copy_to": [agencies[c].name for c in kind.copy_to],
                "issued_at": at.isoformat(),
                "signed_by": actor.display_name,
                # What each step of this instance decided, by BPMN id (later rounds overwrite earlier).
                "steps": _steps(kind, task.bpmn_id, result, prior),
                **extra,
            }
            values = {
                "case_id": task.case_id, "instance_id": task.instance_id, "task_id": task.id, "kind": kind_name,
                "number": number, "issuing_agency_id": issuer.id,
                "recipient_agency_id": recipient.id if recipient else None,
                "content": content, "generated_at": at, "generated_by_id": actor.id,
            }
            document_id = session.execute(_NEW_DOCUMENT[dialect], {f"doc_{k}": v for k, v in values.items()}).scalar()
            if document_id is not None:
                break
            # Another document has the number: one entered by hand (a decision numbered outside the
            # system) is refused; a counter's number that such an entry took is passed over.
            if entered:
                raise InvalidInput("form data is not valid",
                                   {str(field): [f"{entered} is already the number of another document"]})
    if field:
        if entered:
            audit.record(session, "document_number_entered", actor=actor, case_id=task.case_id,
                         instance_id=task.instance_id, task_id=task.id,
                         detail={"kind": kind_name, "number": entered, "field": field})
        if step_data is not None:
            set_committed_value(task, "result", result)
        else:
            task.result = result
    audit.record(session, "document_generated", actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"document_id": document_id, "kind": kind_name, "number": number})
    return _held(session, document_id, values, issuer, recipient)


def _held(session: Session, document_id: int, values: dict[str, Any], issuer: Agency,
          recipient: Agency | None) -> Document:
    """The new row as an object in the session, as a query would have loaded it (its values put
    in place as loading puts them, not through the constructor's attribute events)."""
    document = as_loaded(Document, **values, id=document_id)
    session.add(document)
    # Related objects after adding, so that adding cascades to nothing.
    document.__dict__.update(issuing_agency=issuer, recipient_agency=recipient)
    return document


def _next_number(session: Session, dialect: str, issuer: Agency, series: str, year: int) -> str:
    """The issuer's next number in the series; the counter row stays locked until commit."""
    last = session.execute(_NEXT_NUMBER[dialect], {"agency_id": issuer.id, "series": series, "year": year}).scalar_one()
    return f"{issuer.short_name}{series}〔{year}〕{last}号"


def _steps(kind: Kind, bpmn_id: str, result: dict[str, Any] | None,
           prior: Sequence[tuple[str, dict[str, Any] | None]]) -> dict[str, Any]:
    steps = {step: done or {} for step, done in prior if kind.steps is None or step in kind.steps}
    # The issuing task's own result, also when a parallel instance of its step (another agency's
    # answer) was completed at the same moment and sorts after it.
    if kind.steps is None or bpmn_id in kind.steps:
        steps[bpmn_id] = result or {}
    return steps


def case_documents(session: Session, user: User, case_id: int) -> list[Document]:
    """The case's documents this user may read, oldest first."""
    docs = session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id))
    return [d for d in docs if policy.can_view_document(session, user, d)]


def open_document(session: Session, user: User, document_id: int) -> Document:
    """A document for reading, recorded as `document_viewed`; NotFound if the user may not."""
    with transaction(session):
        document = session.get(Document, document_id)
        if document is None or not policy.can_view_document(session, user, document):
            raise NotFound(f"document {document_id} does not exist")
        # A secret case's document that the law copies to the reader's agency: a reading of
        # confidential material by someone who reads nothing else of the case.
        copy = {"confidential": True, "read_as": "copy"} if policy.reads_as_copy(session, user, document) else {}
        audit.record(session, "document_viewed", actor=user, case_id=document.case_id,
                     detail={"document_id": document.id, "number": document.number, **copy})
        return document


def content_of(document: Document) -> dict[str, Any]:
    return document.content
