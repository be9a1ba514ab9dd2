"""`run --role` refuses the options of a one-pass run with exit 2 and one clear line."""

from __future__ import annotations

import pytest

from monitor.cli import main


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--role", "fetch", "--once"], "--once"),
        (["--role", "stories", "--sink", "stdout"], "--sink stdout"),
        (["--role", "fetch", "--state", "x.db"], "--state"),
    ],
)
def test_a_role_refuses_one_pass_options(
    args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"news-monitor run: --role {args[1]} cannot be used with {named}")
    assert len(err.splitlines()) == 1


def test_an_unknown_role_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["run", "--role", "dedup"])
    assert exc.value.code == 2
    assert "invalid choice: 'dedup'" in capsys.readouterr().err
