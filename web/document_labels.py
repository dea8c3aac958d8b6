"""Kinds of legal document as a page names them: in English by kind, in Chinese by the title the
document was issued with."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

# Kinds of legal document (engine/casework/documents.py KINDS) as an English page names them; a
# Chinese page shows the document's own title, fixed when it was issued (it is the legal record).
DOCUMENT_KINDS = {
    "transfer_letter": _l("Letter transferring a suspected criminal case"),
    "receipt": _l("Receipt for a transferred case"),
    "supplement_request": _l("Notice to supplement the materials"),
    "filing_notice": _l("Notice of case filing"),
    "filing_decision_record": _l("Decision to file the case"),
    "non_filing_notice": _l("Notice of not filing the case"),
    "reconsideration_decision": _l("Decision on the reconsideration"),
    "reconsideration_request": _l("Request for reconsideration"),
    "filing_supervision_proposal": _l("Proposal for filing supervision"),
    "explain_request": _l("Notice requiring the reasons for not filing"),
    "filing_order": _l("Notice to file the case"),
    "correction_notice": _l("Notice to correct a violation"),
    "escalation_report": _l("Report on the police not filing after the notice to file"),
    "transfer_opinion": _l("Procuratorial opinion (requiring the transfer)"),
    "procuratorial_opinion": _l("Procuratorial opinion"),
    "reverse_transfer_letter": _l("Letter handing the case over for administrative handling"),
    "handover_list": _l("Hand-over list of the case's items"),
    "returned_materials_receipt": _l("List of returned case files received"),
    "consultation_letter": _l("Letter calling a case consultation"),
    "consultation_reply": _l("Written opinion for a case consultation"),
    "consultation_minutes": _l("Minutes of the case consultation"),
    "civil_referral_letter": _l("Letter on the civil protection of the trade secret"),
    "electronic_data_list": _l("List of electronic data"),
    "evidence_handover": _l("Hand-over list of evidence"),
    "penalty_decision_copy": _l("Administrative penalty decision (copy)"),
    # The notices a rights holder is owed, as the case page's parties section names them.
    "complaint_decision_notice": _l("Decision on the complaint"),
    "administrative_result_notice": _l("Result of the administrative case"),
    "preservation_outcome_notice": _l("Outcome of the preservation application"),
    "holder_non_filing_notice": _l("Police decision not to file the holder's report"),
    "holder_reconsideration_decision": _l("Police decision on the holder's reconsideration"),
    "holder_late_request_refusal": _l("Refusal of the holder's late request for reconsideration"),
    "holder_supervision_reply": _l("Procuratorate's answer to the request for filing supervision"),
}


def document_kind(document) -> str:
    """What a document is, in the page's language: its kind's English name on an English page,
    else the title it was issued with (the document's text itself stays as issued)."""
    if get_locale() is not None and get_locale().language == "en" and document.kind in DOCUMENT_KINDS:
        return str(DOCUMENT_KINDS[document.kind])
    return str((document.content or {}).get("title") or "")
