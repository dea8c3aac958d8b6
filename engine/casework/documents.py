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

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.access import audit, policy
from engine.errors import InvalidInput, NotFound
from engine.runtime.sql import insert_if_absent
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
# (session, issuing task) giving extra content; its "recipient" (an agency code) names the
# recipient when that depends on the case. Registered by the module that owns the tables.
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
    issued = []
    engine = spiff_task.workflow.script_engine
    for rule in parse_documents(value):
        if rule.condition and not engine.evaluate(spiff_task, rule.condition):
            continue
        issued.append(_issue(session, actor, task, rule.kind))
    return issued


def issue_document(session: Session, actor: User, task: HumanTask, kind_name: str) -> Document:
    """Issue one document of a kind for a completed task, in the caller's transaction: for
    documents generated on request rather than by the task's `documents` property."""
    return _issue(session, actor, task, kind_name)


def _issue(session: Session, actor: User, task: HumanTask, kind_name: str) -> Document:
    kind = KINDS[kind_name]
    agencies = {a.code: a for a in session.scalars(select(Agency))}
    issuer = agencies[kind.issuer] if kind.issuer else task.agency
    extra = dict(CONTENT_BUILDERS[kind_name](session, task)) if kind_name in CONTENT_BUILDERS else {}
    recipient = extra.pop("recipient", kind.recipient)
    at = now(session)
    number = _number_for(session, actor, task, kind_name, issuer, at.astimezone(NUMBER_ZONE).year)
    prior = session.scalars(
        select(HumanTask).where(HumanTask.instance_id == task.instance_id, HumanTask.state == HumanTaskState.COMPLETED)
        .order_by(HumanTask.completed_at, HumanTask.id)
    ).all()
    content = {
        "title": kind.title,
        "case": {"number": task.case.number, "title": task.case.title},
        "issuer": issuer.name,
        "recipient": agencies[recipient].name if recipient else None,
        "copy_to": [agencies[c].name for c in kind.copy_to],
        "issued_at": at.isoformat(),
        "signed_by": actor.display_name,
        # What each step of this instance decided, by BPMN id (later rounds overwrite earlier).
        "steps": _steps(kind, task, prior),
        **extra,
    }
    document = Document(
        case_id=task.case_id, instance_id=task.instance_id, task_id=task.id, kind=kind_name,
        number=number, issuing_agency_id=issuer.id,
        recipient_agency_id=agencies[recipient].id if recipient else None,
        content=content, generated_at=at, generated_by_id=actor.id,
    )
    session.add(document)
    session.flush()
    audit.record(session, "document_generated", actor=actor, case_id=task.case_id,
                 instance_id=task.instance_id, task_id=task.id,
                 detail={"document_id": document.id, "kind": kind_name, "number": number})
    return document


def _number_for(session: Session, actor: User, task: HumanTask, kind_name: str, issuer: Agency, year: int) -> str:
    """The document's number: the one entered on the form for a decision numbered outside the
    system (refused if another document has it), else the issuer's next in the series. A kind
    with a `number_field` records it on the task's result, where the documents issued after it
    in the same completion read it."""
    kind = KINDS[kind_name]
    field = kind.number_field
    if field is None:
        return _take_number(session, issuer, kind.series, year)
    entered = (task.result or {}).get(field)
    if entered:
        if session.scalar(select(Document.id).where(Document.number == entered)) is not None:
            raise InvalidInput("form data is not valid",
                               {field: [f"{entered} is already the number of another document"]})
        audit.record(session, "document_number_entered", actor=actor, case_id=task.case_id,
                     instance_id=task.instance_id, task_id=task.id,
                     detail={"kind": kind_name, "number": entered, "field": field})
        number = entered
    else:
        number = _take_number(session, issuer, kind.series, year)
    task.result = {**(task.result or {}), field: number}
    return number


def _take_number(session: Session, issuer: Agency, series: str, year: int) -> str:
    """The next number of the issuer's series that no document has yet (one entered by hand for
    a decision made outside the system may have taken it)."""
    while True:
        number = f"{issuer.short_name}{series}〔{year}〕{_next_number(session, issuer.id, series, year)}号"
        if session.scalar(select(Document.id).where(Document.number == number)) is None:
            return number


def _steps(kind: Kind, task: HumanTask, prior: Sequence[HumanTask]) -> dict[str, Any]:
    steps = {t.bpmn_id: t.result or {} for t in prior if kind.steps is None or t.bpmn_id in kind.steps}
    # The issuing task's own result, also when a parallel instance of its step (another agency's
    # answer) was completed at the same moment and sorts after it.
    if kind.steps is None or task.bpmn_id in kind.steps:
        steps[task.bpmn_id] = task.result or {}
    return steps


def _next_number(session: Session, agency_id: int, series: str, year: int) -> int:
    """Take the next number of a series; the UPDATE locks the counter row until commit."""
    insert_if_absent(session, DocumentCounter, agency_id=agency_id, series=series, year=year, last=0)
    return session.execute(
        update(DocumentCounter)
        .where(DocumentCounter.agency_id == agency_id, DocumentCounter.series == series,
               DocumentCounter.year == year)
        .values(last=DocumentCounter.last + 1)
        .returning(DocumentCounter.last)
    ).scalar_one()


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
