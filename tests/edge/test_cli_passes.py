"""`kakou keys` and `kakou pass` through click's CliRunner: exit codes and first lines."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from edge import keys
from edge.app.cli import main

HOLDER = "张三"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    keys.new_keypair("hxy1", tmp_path / "keys")
    return tmp_path / "keys"


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(main, list(args), input=stdin)


def issue(runner: CliRunner, key_dir: Path, *extra: str) -> Result:
    return run(
        runner,
        "pass",
        "issue",
        "--key",
        str(key_dir / "hxy1.key"),
        "--community",
        "hxy",
        "--pass-id",
        "R-0001234",
        "--kind",
        "resident",
        "--holder",
        HOLDER,
        "--unit",
        "3-2-501",
        "--days",
        "365",
        *extra,
    )


def issued_token(runner: CliRunner, key_dir: Path, *extra: str) -> str:
    result = issue(runner, key_dir, *extra)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()[0]


def batch(runner: CliRunner, key_dir: Path, sheet: Path, out: Path, *extra: str) -> Result:
    return run(
        runner,
        "pass",
        "batch",
        "--key",
        str(key_dir / "hxy1.key"),
        "--community",
        "hxy",
        str(sheet),
        "--out",
        str(out),
        *extra,
    )


def verify(runner: CliRunner, key_dir: Path, token: str, *extra: str) -> Result:
    return run(
        runner, "pass", "verify", "--keys", str(key_dir), "--community", "hxy", *extra, token
    )


def test_keys_new_prints_the_two_paths_and_no_key(runner: CliRunner, tmp_path: Path) -> None:
    out_dir = tmp_path / "office-keys"
    result = run(runner, "keys", "new", "--kid", "hxy1", "--out", str(out_dir))

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [str(out_dir / "hxy1.key"), str(out_dir / "hxy1.pub")]
    assert stat.S_IMODE(os.stat(out_dir / "hxy1.key").st_mode) == 0o600
    assert "PRIVATE" not in result.output


def test_keys_new_refuses_to_overwrite(runner: CliRunner, key_dir: Path) -> None:
    before = (key_dir / "hxy1.key").read_bytes()
    result = run(runner, "keys", "new", "--kid", "hxy1", "--out", str(key_dir))
    assert result.exit_code == 1
    assert "exists" in result.output
    assert (key_dir / "hxy1.key").read_bytes() == before


def test_keys_new_refuses_a_bad_kid(runner: CliRunner, tmp_path: Path) -> None:
    result = run(runner, "keys", "new", "--kid", "../evil", "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "--kid" in result.output


def test_issue_prints_only_the_token_on_stdout(runner: CliRunner, key_dir: Path) -> None:
    result = issue(runner, key_dir)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("KK2:")  # the default contract
    assert "KK2, " in result.stderr
    assert "QR version 8" in result.stderr
    assert "张*" in result.stderr  # the QR carries the masked name


def test_verify_valid_prints_valid_then_the_claims(runner: CliRunner, key_dir: Path) -> None:
    token = issued_token(runner, key_dir)

    result = verify(runner, key_dir, token, "--gate", "north")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "valid"
    assert "pass_id: R-0001234" in lines
    assert "holder: 张*" in lines
    assert "unit: 3-2-501" in lines
    assert "gates: all" in lines
    assert all(": " in line for line in lines[1:])


def test_verify_expired_prints_the_reason_first(runner: CliRunner, key_dir: Path) -> None:
    token = issued_token(runner, key_dir)
    later = (datetime.now() + timedelta(days=400)).date().isoformat()

    result = verify(runner, key_dir, token, "--at", later)

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "expired"
    assert lines[1].startswith("expired at ")
    assert "pass_id: R-0001234" in lines  # whose pass it was


def test_verify_reads_the_token_from_stdin(runner: CliRunner, key_dir: Path) -> None:
    token = issued_token(runner, key_dir)
    result = run(
        runner,
        "pass",
        "verify",
        "--keys",
        str(key_dir),
        "--community",
        "hxy",
        "-",
        stdin=token + "\n",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "valid"


def test_verify_garbage_is_bad_encoding(runner: CliRunner, key_dir: Path) -> None:
    result = verify(runner, key_dir, "hello")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == ["bad_encoding", "does not start with KK2: or KK1:"]


@pytest.mark.parametrize(("option", "prefix"), [("kk1", "KK1:"), ("KK2", "KK2:")])
def test_format_chooses_the_contract_and_both_verify(
    runner: CliRunner, key_dir: Path, option: str, prefix: str
) -> None:
    token = issued_token(runner, key_dir, "--format", option)
    assert token.startswith(prefix)
    result = verify(runner, key_dir, token)
    assert result.exit_code == 0, result.output
    assert "community: hxy" in result.stdout.splitlines()


def test_format_refuses_an_unknown_contract(runner: CliRunner, key_dir: Path) -> None:
    result = issue(runner, key_dir, "--format", "kk3")
    assert result.exit_code == 2
    assert "--format" in result.output
    assert result.stdout == ""


def test_keys_new_says_what_a_long_key_id_costs(runner: CliRunner, tmp_path: Path) -> None:
    long_kid = run(runner, "keys", "new", "--kid", "office-2026", "--out", str(tmp_path))
    short_kid = run(runner, "keys", "new", "--kid", "hxy-2026", "--out", str(tmp_path))
    assert long_kid.exit_code == short_kid.exit_code == 0
    assert "adds 16.5 characters to every pass" in long_kid.stderr
    assert short_kid.stderr == ""


def test_verify_with_other_keys_is_unknown_key(
    runner: CliRunner, key_dir: Path, tmp_path: Path
) -> None:
    token = issued_token(runner, key_dir)
    keys.new_keypair("other", tmp_path / "gate-keys")
    result = verify(runner, tmp_path / "gate-keys", token)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "unknown_key"


def test_verify_revoked(runner: CliRunner, key_dir: Path, tmp_path: Path) -> None:
    token = issued_token(runner, key_dir)
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("# lost\nR-0001234\n", encoding="utf-8")

    result = verify(runner, key_dir, token, "--revoked", str(revoked))

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "revoked"


def test_verify_refuses_a_malformed_revocation_list(
    runner: CliRunner, key_dir: Path, tmp_path: Path
) -> None:
    revoked = tmp_path / "revoked.txt"
    revoked.write_text("R-1 R-2\n", encoding="utf-8")
    result = verify(runner, key_dir, "KK1:", "--revoked", str(revoked))
    assert result.exit_code == 2
    assert "revoked.txt:1" in result.output


def test_gates_option_limits_the_pass(runner: CliRunner, key_dir: Path) -> None:
    token = issued_token(runner, key_dir, "--gates", "north,east")
    assert verify(runner, key_dir, token, "--gate", "east").exit_code == 0
    refused = verify(runner, key_dir, token, "--gate", "west")
    assert refused.exit_code == 1
    assert refused.stdout.splitlines()[0] == "gate_not_allowed"


def test_full_holder_keeps_the_whole_name(runner: CliRunner, key_dir: Path) -> None:
    token = issued_token(runner, key_dir, "--full-holder")
    result = verify(runner, key_dir, token)
    assert f"holder: {HOLDER}" in result.stdout.splitlines()


def test_not_before_in_the_future_is_not_yet_valid(runner: CliRunner, key_dir: Path) -> None:
    tomorrow = (datetime.now() + timedelta(days=1)).date().isoformat()
    token = issued_token(runner, key_dir, "--not-before", tomorrow)
    result = verify(runner, key_dir, token)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == "not_yet_valid"


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--kind", "tourist"], "--kind"),
        (["--days", "0"], "--days"),
        (["--days", "-3"], "--days"),
        (["--not-before", "next tuesday"], "--not-before"),
        (["--pass-id", "R 1"], "--pass-id"),
        (["--holder", "张\x07三"], "--holder"),
        (["--gates", "north,bad#gate"], "--gates"),
        (["--plate", "京A" + "1" * 20], "--plate"),
        (["--kind", "vehicle"], "plate"),
    ],
)
def test_issue_rejects_bad_options_with_a_usage_error(
    runner: CliRunner, key_dir: Path, extra: list[str], option: str
) -> None:
    result = issue(runner, key_dir, *extra)
    assert result.exit_code == 2, result.output
    assert option in result.output
    assert "KK" not in result.stdout


def test_issue_rejects_a_missing_or_wrong_key(
    runner: CliRunner, key_dir: Path, tmp_path: Path
) -> None:
    missing = issue(runner, tmp_path / "nowhere")
    assert missing.exit_code == 2
    assert "--key" in missing.output

    (key_dir / "hxy1.key").write_text("not a key")
    wrong = issue(runner, key_dir)
    assert wrong.exit_code == 2
    assert "--key" in wrong.output


def test_png_and_text_qr(runner: CliRunner, key_dir: Path, tmp_path: Path) -> None:
    png = tmp_path / "pass.png"
    result = issue(runner, key_dir, "--png", str(png), "--qr")

    assert result.exit_code == 0, result.output
    token = result.stdout.splitlines()[0]
    assert result.stdout == token + "\n"  # the QR drawing went to stderr
    assert "█" in result.stderr
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    zbarimg = shutil.which("zbarimg")
    if zbarimg is not None:  # zbar-tools: read the PNG back as a phone would
        decoded = subprocess.run(
            [zbarimg, "--raw", "-q", str(png)], capture_output=True, text=True, check=True
        )
        assert decoded.stdout.strip() == token


SHEET = """pass_id,holder,unit,kind,days,gates,plate
R-0001234,张三,3-2-501,resident,,,
T-0000417,王小明,7-3-302,temporary,30,,
C-0000088,陈晨,7-3-302,vehicle,365,,京A12345
"""


def test_batch_writes_a_pdf_from_a_gbk_sheet(
    runner: CliRunner, key_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "households.csv"
    sheet.write_bytes(SHEET.encode("gbk"))  # as Chinese Excel saves "CSV"
    out = tmp_path / "passes.pdf"

    result = batch(runner, key_dir, sheet, out)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == f"{out}: 3 passes on 1 page(s)"
    assert out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("token_format", ["kk1", "kk2"])
def test_batch_prints_the_chosen_contract(
    runner: CliRunner, key_dir: Path, tmp_path: Path, token_format: str
) -> None:
    sheet = tmp_path / "households.csv"
    sheet.write_text(SHEET, encoding="utf-8")
    out = tmp_path / "passes.pdf"
    result = batch(runner, key_dir, sheet, out, "--format", token_format)
    assert result.exit_code == 0, result.output
    # The command itself checks the PDF's QR codes against the issued tokens.
    assert out.read_bytes().startswith(b"%PDF")


def test_batch_reports_every_bad_row_and_writes_nothing(
    runner: CliRunner, key_dir: Path, tmp_path: Path
) -> None:
    sheet = tmp_path / "households.csv"
    sheet.write_text(
        SHEET + "R-0001235,李四,3-2-502,tourist,,,\nR-0001236,,3-2-503,,0,,\n", encoding="utf-8"
    )
    out = tmp_path / "passes.pdf"

    result = batch(runner, key_dir, sheet, out)

    assert result.exit_code == 1
    assert "line 5: kind must be one of" in result.stderr
    assert "line 6: holder is empty" in result.stderr
    assert "line 6: days must be" in result.stderr
    assert "no PDF written" in result.stderr
    assert not out.exists()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["households.csv", "keys"]
