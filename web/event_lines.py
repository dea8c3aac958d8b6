"""Audit events and messages in words: the one short line a timeline shows about an event, and a
message between processes by the name the diagrams give it (never its code)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from lxml import etree

from . import workflow_text

BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
MESSAGE_EVENTS = ("message_sent", "message_delivered", "message_failed")


@lru_cache(maxsize=4)
def _message_names(workflows_dir: str) -> dict[str, str]:
    """{message code (transfer_sent): what the diagrams call it (移送案件)}: the name of a message
    flow carrying it, else of an event throwing it."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    names: dict[str, str] = {}
    for path in sorted(Path(workflows_dir).glob("*.bpmn")):
        root = etree.parse(str(path), parser).getroot()
        codes = {m.get("id"): m.get("name") for m in root.iter(f"{BPMN_NS}message")}
        flows = [(f.get("messageRef"), f.get("name")) for f in root.iter(f"{BPMN_NS}messageFlow")]
        throws = [(d.get("messageRef"), d.getparent().get("name"))
                  for d in root.iter(f"{BPMN_NS}messageEventDefinition")
                  if etree.QName(d.getparent()).localname in ("intermediateThrowEvent", "endEvent")]
        for ref, name in flows + throws:
            if codes.get(ref) and name:
                names.setdefault(codes[ref], name)
    return names


def message_label(code: str) -> str:
    """A message between processes as the diagrams name it, in the page's language; "" for one
    no diagram names (its code is the modeller's, never shown)."""
    return workflow_text.translate(_message_names(str(current_app.config["WORKFLOWS_DIR"])).get(code, ""))


def event_detail(event, content: bool = True) -> str:
    """One short line about an audit event; never the form data it may carry. Error messages
    may quote case data, so they are shown only to those who may read the case's content."""
    detail = event.detail or {}
    if event.event_type in MESSAGE_EVENTS:
        # Its "message" is the message's code, not an error: worded as the diagram's flow.
        return message_label(str(detail.get("message", "")))
    if event.event_type == "action_item_withdrawn":
        # The convener's reason is the case's content, as the item it withdraws.
        return _("Reason: %(reason)s", reason=detail["note"]) if content and detail.get("note") else ""
    keys = ("title", "message", "number", "process") if content else ("title", "number", "process")
    for key in keys:
        if detail.get(key):
            # Task and process names come from the diagrams: shown in the page's language.
            value = str(detail[key])
            if key == "process":
                return workflow_text.process_name(value)
            if detail.get("standing"):  # a hand-off approved under its agency's standing approval
                return f"{workflow_text.translate(value)} · {_('under a standing approval')}"
            if event.event_type == "threshold_assessed" and detail.get("version"):
                # Which version of the filing-standard table decided (DOMAIN, Thresholds).
                version = _("standard version %(version)s", version=detail["version"])
                return f"{workflow_text.translate(value)} · {version}"
            return workflow_text.translate(value)
    return ""
