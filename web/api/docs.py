"""/api/v1/docs: the OpenAPI document as a plain server-rendered page.

flask-smorest's Swagger UI, ReDoc and RapiDoc load scripts from CDNs, which the pages' CSP and
the agencies' networks both forbid; this page needs nothing but the spec and the site's CSS.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

bp = Blueprint("api_docs_page", __name__, url_prefix="/api/v1")
METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(node: dict | None) -> str:
    """'Case' for {"$ref": "#/components/schemas/Case"}, 'Case[]' for an array of them."""
    if not node:
        return ""
    if "$ref" in node:
        return node["$ref"].rsplit("/", 1)[-1]
    if node.get("type") == "array":
        return _ref_name(node.get("items")) + "[]"
    return node.get("type", "")


def _operations(spec: dict) -> dict[str, list[dict]]:
    """Operations grouped by tag, in the order the spec lists them."""
    responses = spec.get("components", {}).get("responses", {})
    grouped: dict[str, list[dict]] = {tag["name"]: [] for tag in spec.get("tags", [])}
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {})
            body_media = next(iter(body), "")
            rows = []
            for status, response in op.get("responses", {}).items():
                if "$ref" in response:
                    response = responses.get(response["$ref"].rsplit("/", 1)[-1], {})
                content = response.get("content", {})
                media = next(iter(content), "")
                rows.append((status, response.get("description", ""), media,
                             _ref_name(content.get(media, {}).get("schema"))))
            grouped.setdefault((op.get("tags") or ["other"])[0], []).append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "description": op.get("description", ""),
                "parameters": [*item.get("parameters", []), *op.get("parameters", [])],
                "body": _ref_name(body.get(body_media, {}).get("schema")), "body_media": body_media,
                # Success first, then errors by status, then "default".
                "responses": sorted(rows, key=lambda row: (row[0] == "default", row[0])),
            })
    return grouped


@bp.route("/docs")
def page():
    spec = current_app.extensions["liandong_api"].spec.to_dict()
    return render_template("api/docs.html", spec=spec, operations=_operations(spec),
                           schemas=spec.get("components", {}).get("schemas", {}),
                           descriptions={t["name"]: t.get("description") for t in spec.get("tags", [])})
