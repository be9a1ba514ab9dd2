"""`news-monitor inspect`: show what clean kept, what it removed, and why."""

from __future__ import annotations

from typing import Any

import orjson

from monitor.clean.cleaner import RejectedArticle
from monitor.model import Article, Rejected


def inspection_json(result: Article | Rejected) -> dict[str, Any]:
    """Return the JSON-ready inspection of one cleaned (or rejected) item."""
    if isinstance(result, Rejected):
        out: dict[str, Any] = {
            "status": "rejected",
            "input_id": result.input_id,
            "source": result.source,
            "error": result.error,
        }
        if isinstance(result, RejectedArticle):
            out["text"] = result.text
            out["removed"] = [{"rule": r.rule, "text": r.text} for r in result.removed]
        return out
    return {
        "status": "article",
        "item_id": result.item_id,
        "input_id": result.input_id,
        "source": result.source,
        "title": result.title,
        "url": result.url,
        "published": result.published.isoformat() if result.published else None,
        "author": result.author,
        "site_name": result.site_name,
        "language": result.language,
        "dateline": result.dateline,
        "origin": result.origin.value,
        "warnings": list(result.meta.get("warnings", ())),
        "text": result.text,
        "removed": [{"rule": r.rule, "text": r.text} for r in result.removed],
        "clean": result.meta.get("clean", {}),
    }


def render_inspection(result: Article | Rejected, as_json: bool) -> str:
    """Render one cleaned item for a person (or, with `as_json`, for a machine)."""
    data = inspection_json(result)
    if as_json:
        return orjson.dumps(data, option=orjson.OPT_INDENT_2).decode("utf-8")
    if data["status"] == "rejected":
        out = [f"REJECTED {data['input_id']} ({data['source']}): {data['error']}"]
    else:
        out = [
            f"{key:<10} {data[key]}"
            for key in (
                "item_id",
                "input_id",
                "source",
                "title",
                "url",
                "published",
                "author",
                "site_name",
                "language",
                "dateline",
                "origin",
            )
            if data[key] is not None
        ]
        out += [f"{'warning':<10} {w}" for w in data["warnings"]]
    if "text" in data:
        text = data["text"] or ("(none: a headline item)" if data.get("origin") == "entry" else "")
        out += ["", "--- text ---", text, "", f"--- removed ({len(data['removed'])}) ---"]
        width = max((len(r["rule"]) for r in data["removed"]), default=0)
        out += [f"[{r['rule']:<{width}}] {r['text']}" for r in data["removed"]]
    return "\n".join(out)
