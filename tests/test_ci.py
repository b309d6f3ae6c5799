"""golf ci: change sets of record pull requests, in real git repositories built here."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from golf.judge.ci import run_ci
from golf.cli import main
from golf.judge.verify import verify_record
from test_leaderboard import write_record

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

EXISTING = "records/track_smoke/2026-04-06_Existing"
NEW = "records/track_smoke/2026-06-01_New"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_AUTHOR_NAME", "golf tests")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "tests@golf.invalid")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "golf tests")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "tests@golf.invalid")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path) -> Path:
    """main: a README and one existing record. Each test branches from it."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# Challenge\n")
    write_record(root / EXISTING, {1337: 1.71, 42: 1.72, 2025: 1.715}, name="Existing", date="2026-04-06")
    commit(root, "base")
    git(root, "checkout", "-q", "-b", "pr")
    return root


def add_new_record(repo: Path, folder: str = NEW, **kwargs) -> Path:
    kwargs.setdefault("name", "New")
    kwargs.setdefault("date", "2026-06-01")
    return write_record(repo / folder, {1337: 1.61, 42: 1.62, 2025: 1.615}, **kwargs)


def test_one_new_valid_record_passes(repo, capsys):
    add_new_record(repo)
    commit(repo, "add a record")

    result = run_ci(repo, "main", "pr")

    assert result.changeset.problems == [] and result.changeset.new_folders == [NEW]
    assert {c.status for c in result.changeset.changes} == {"A"}
    assert [r.path for r in result.report.records] == [NEW]
    # The folder's verdict is golf verify's own verdict on the folder.
    assert result.report.records[0].verdict == verify_record(repo / NEW, records_root=repo / "records").verdict
    assert result.passed == (result.report.records[0].verdict == "pass")
    assert result.passed

    report = repo.parent / "report.md"
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr", "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert report.read_text() == out
    assert "**Result: ✅ pass**" in out and f"adds one new record folder `{NEW}`" in out
    assert "## golf verify" in out and f"`{NEW}`" in out


def test_head_is_read_from_git_not_from_the_working_tree(repo):
    add_new_record(repo)
    commit(repo, "add a record")
    git(repo, "checkout", "-q", "main")            # the working tree no longer has the new folder
    assert not (repo / NEW).exists()
    result = run_ci(repo, "main", "pr")
    assert result.passed and result.report.records[0].runs


def test_two_new_records_fail(repo, capsys):
    add_new_record(repo)
    add_new_record(repo, "records/track_smoke/2026-06-02_Other", name="Other", date="2026-06-02")
    commit(repo, "add two")
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr"]) == 1
    out = capsys.readouterr().out
    assert "**Result: ❌ fail**" in out and "adds 2 record folders" in out and "adds exactly one" in out
    # the same problem as a finding of the registry: in JSON, and as a GitHub annotation
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "json"]) == 1
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert (finding["code"], finding["name"]) == ("G901", "not-one-new-record")
    assert "adds 2 record folders" in finding["message"]
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr", "--format", "github"]) == 1
    lines = capsys.readouterr().out.splitlines()
    # annotated on the first path the problem names, so GitHub shows it beside that file
    assert lines[0].startswith("::error file=records/track_smoke/2026-06-01_New,title=G901 not-one-new-record::")
    assert "adds 2 record folders" in lines[0]


def test_a_record_plus_an_edit_elsewhere_fails(repo):
    add_new_record(repo)
    (repo / "README.md").write_text("# Challenge\n\nEdited.\n")
    (repo / "tools.py").write_text("x = 1\n")
    commit(repo, "record and edits")
    result = run_ci(repo, "main", "pr")
    assert not result.passed
    assert result.changeset.new_folders == [NEW]
    assert "modifies `README.md`" in result.changeset.problems
    assert any("adds `tools.py` outside a record folder" in p for p in result.changeset.problems)


def test_modifying_or_extending_an_existing_record_fails(repo):
    (repo / EXISTING / "README.md").write_text("# Existing\n\nRewritten.\n")
    (repo / EXISTING / "train_seed7.log").write_text("seed:7\n")
    commit(repo, "touch the old record")
    result = run_ci(repo, "main", "pr")
    assert not result.passed and result.report is None
    assert f"modifies `{EXISTING}/README.md`" in result.changeset.problems
    assert any(f"adds files to the existing record folder `{EXISTING}`" in p for p in result.changeset.problems)


def test_deleting_fails(repo):
    (repo / EXISTING / "train_seed42.log").unlink()
    commit(repo, "delete a log")
    result = run_ci(repo, "main", "pr")
    assert not result.passed and result.report is None
    assert result.changeset.problems == [f"deletes `{EXISTING}/train_seed42.log`"]


def test_renaming_an_existing_record_into_a_new_folder_fails(repo):
    git(repo, "mv", EXISTING, NEW)
    commit(repo, "rename")
    result = run_ci(repo, "main", "pr")
    assert not result.passed
    assert any(p.startswith("renames `" + EXISTING) for p in result.changeset.problems)
    assert {c.status for c in result.changeset.changes} == {"R"}


def test_empty_change_set_and_unknown_track(repo):
    commit(repo, "nothing")
    result = run_ci(repo, "main", "pr")
    assert not result.passed and result.changeset.problems == ["the change set is empty"]

    add_new_record(repo, "records/track_moon/2026-06-01_New")
    commit(repo, "odd track")
    result = run_ci(repo, "main", "pr")
    assert not result.passed
    assert any("`records/track_moon/` is not a track" in p for p in result.changeset.problems)


def test_a_new_record_that_fails_verification_fails_ci(repo, capsys):
    add_new_record(repo, claim=1.40)     # the logs say 1.615
    commit(repo, "overclaim")
    result = run_ci(repo, "main", "pr")
    assert result.changeset.passed
    record = result.report.records[0]
    assert record.verdict == verify_record(repo / NEW, records_root=repo / "records").verdict == "fail"
    assert not result.passed
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and data["change_set_passed"] is True
    assert data["report"]["records"][0]["path"] == NEW
    assert "claim-mismatch" in {f["name"] for f in data["report"]["records"][0]["findings"]}


def test_hostile_record_is_never_executed(repo, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("still here")
    folder = add_new_record(repo)
    (folder / "train_gpt.py").write_text(f"import os\nos.remove({str(victim)!r})\n")
    (folder / "helper.py").write_text(f"import os\nos.remove({str(victim)!r})\n")
    os.symlink("/etc/passwd", folder / "passwd.log")
    commit(repo, "hostile")
    result = run_ci(repo, "main", "pr")
    assert victim.read_text() == "still here"
    assert not result.passed                       # the embedded source no longer matches, a link leaves the folder
    assert result.report.records[0].verdict == "fail"


def test_bad_revisions_and_not_a_repository(repo, tmp_path, capsys):
    assert main(["ci", "--repo", str(repo), "--base", "no-such-branch"]) == 2
    err = capsys.readouterr().err
    assert "golf: error: unknown revision 'no-such-branch'" in err and "fetch-depth" in err
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head=-rf"]) == 2
    assert "unknown revision '-rf'" in capsys.readouterr().err
    plain = tmp_path / "plain"
    plain.mkdir()
    assert main(["ci", "--repo", str(plain), "--base", "main"]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_unrelated_histories(repo, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "x").write_text("x")
    commit(other, "x")
    git(repo, "fetch", "-q", str(other), "main:elsewhere")
    assert main(["ci", "--repo", str(repo), "--base", "elsewhere", "--head", "pr"]) == 2
    assert "no common ancestor" in capsys.readouterr().err


def test_workflow_runs_golf_ci_on_record_pull_requests():
    workflow = Path(__file__).resolve().parents[1] / ".github" / "workflows" / "record-pr.yml"
    text = workflow.read_text()
    assert "pull_request" in text and "records/**" in text and "fetch-depth: 0" in text
    assert "golf ci --base" in text and "GITHUB_STEP_SUMMARY" in text
    try:
        import yaml
    except ImportError:
        return
    data = yaml.safe_load(text)
    steps = [step for job in data["jobs"].values() for step in job["steps"]]
    assert any("golf ci" in step.get("run", "") for step in steps)


def test_ci_never_imports_torch(repo):
    import sys

    add_new_record(repo)
    commit(repo, "add a record")
    code = ("import sys\nfrom golf.cli import main\n"
            f"rc = main(['ci', '--repo', {str(repo)!r}, '--base', 'main', '--head', 'pr'])\n"
            "assert rc == 0, rc\nassert 'torch' not in sys.modules, 'torch was imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


WAIVER = '[waivers."records/track_smoke/2026-06-01_New"]\nclaim-mismatch = "a typo in the claim, accepted in review"\n'


def test_ci_judges_by_date_and_applies_the_base_branchs_waivers(repo, capsys):
    git(repo, "checkout", "-q", "main")
    (repo / "golf.toml").write_text(WAIVER)
    commit(repo, "maintainers waive one finding")
    git(repo, "checkout", "-q", "-B", "pr")
    add_new_record(repo, claim=1.40)
    commit(repo, "overclaim, waived")
    result = run_ci(repo, "main", "pr")
    record = result.report.records[0]
    assert result.passed and record.verdict == "pass"
    assert [w["code"] for w in record.waived] == ["G205"]
    assert record.stats["ruleset"]["name"] == "parameter_golf_2026_practice"   # dated 2026-06-01
    assert main(["ci", "--repo", str(repo), "--base", "main", "--head", "pr", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)["report"]
    assert data["config"] == "golf.toml"
    assert data["rules"]["waivers"] == [{"record": NEW, "code": "G205",
                                         "reason": "a typo in the claim, accepted in review"}]


def test_a_pull_request_cannot_waive_its_own_findings(repo):
    add_new_record(repo, claim=1.40)
    (repo / "golf.toml").write_text(WAIVER)
    commit(repo, "overclaim, and a waiver for it")
    result = run_ci(repo, "main", "pr")
    assert any("golf.toml" in p for p in result.changeset.problems)
    record = result.report.records[0]
    assert record.verdict == "fail" and not record.waived
