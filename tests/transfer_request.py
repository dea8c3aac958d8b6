"""立案协助 as it will be once case_transfer.bpmn names `transfer_requested` in its `started_by`.

案情会商 and 维权联动 ask for a transfer by throwing `transfer_requested` to another instance of the
case; the owner of case_transfer.bpmn adds the property. Until then tests deploy a copy with it
as a new version of `case_transfer` (unchanged when the real file already has it).
"""
from __future__ import annotations

import shutil
from pathlib import Path

from lxml import etree

from engine import deploy_paths

WORKFLOWS = Path(__file__).resolve().parent.parent / "workflows"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
MESSAGE = "transfer_requested"


def deploy_transfer_started_by(session, tmp_path: Path):
    folder = tmp_path / "transfer_started_by"
    shutil.copytree(WORKFLOWS, folder)
    path = folder / "case_transfer.bpmn"
    tree = etree.parse(str(path))
    collaboration = tree.find(f"{{{BPMN}}}collaboration")
    extensions = collaboration.find(f"{{{BPMN}}}extensionElements")
    if extensions is None:
        extensions = etree.Element(f"{{{BPMN}}}extensionElements")
        # After any documentation: the BPMN schema fixes the order.
        documentation = collaboration.findall(f"{{{BPMN}}}documentation")
        collaboration.insert(len(documentation), extensions)
    properties = extensions.find(f"{{{SPIFF}}}properties")
    if properties is None:
        properties = etree.SubElement(extensions, f"{{{SPIFF}}}properties")
    existing = [p for p in properties if p.get("name") == "started_by"]
    if existing:
        names = [n.strip() for n in existing[0].get("value", "").split(",") if n.strip()]
        if MESSAGE not in names:
            existing[0].set("value", ", ".join([*names, MESSAGE]))
    else:
        etree.SubElement(properties, f"{{{SPIFF}}}property", name="started_by", value=MESSAGE)
    tree.write(str(path), encoding="UTF-8", xml_declaration=True)
    return deploy_paths(session, [path])[0].model
