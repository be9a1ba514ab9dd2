"""No module of the product is over 400 lines (STYLE: small modules, one stage each)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 400


def test_no_product_module_is_over_400_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): n
        for package in ("monitor", "connectors")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert too_long == {}
