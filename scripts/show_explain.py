"""Print an `--explain` file (one JSON decision a line) as a table a person can read."""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    """Print one line per decision: input, decision, story, layer or reason."""
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            d = json.loads(line)
            why = d.get("layer") or ""
            if d.get("score") is not None:
                why += f" score={d['score']:.2f}"
            if d["decision"] in ("filtered", "rejected"):
                why = d.get("reason", "")
            story = d.get("story_id") or "-"
            print(f"  {d['input_id']:<28} {d['decision']:<10} story={story:<17} {why}")


if __name__ == "__main__":
    main(sys.argv[1])
