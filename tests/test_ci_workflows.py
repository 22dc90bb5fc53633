"""The CI workflows would work on a fresh fork: the report workflow pulls only from a remote it configured (or skips
the pull, saying so), installs the S3 plugin only where the remote is S3 and before it is used, and updates its
pull-request comment instead of adding one per push; a test workflow runs `make test`, which the README calls CI."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def workflow(name: str) -> dict:
    doc = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the bare key `on` as the boolean true
    return doc


def steps(doc: dict) -> list[dict]:
    return [step for job in doc["jobs"].values() for step in job["steps"]]


def uses_secret(step: dict, prefix: str) -> bool:
    return any(f"secrets.{prefix}" in str(value) for value in step.get("env", {}).values())


def test_report_pulls_only_from_a_remote_it_configured():
    all_steps = steps(workflow("report.yml"))
    pulls = [step for step in all_steps if re.search(r"\bdvc pull\b", step.get("run", ""))]
    assert pulls, "the report reuses what a remote holds"
    for step in pulls:
        run = step["run"]
        # the remote comes from a repository variable, added in the same script before the pull ...
        assert "dvc remote add" in run and run.index("dvc remote add") < run.index("dvc pull"), run
        # ... and the step runs only when that variable is set
        variable = re.search(r'dvc remote add [^\n]*"\$(\w+)"', run).group(1)
        assert re.fullmatch(rf"env\.{variable} != ''", step.get("if", "")), step.get("if")
    # without the variable a step says that nothing is pulled, instead of a pull that fails
    skips = [step for step in all_steps if step.get("if") == f"env.{variable} == ''"]
    assert skips and "nothing is pulled" in skips[0]["run"]


def test_report_installs_the_s3_plugin_where_aws_secrets_are_used():
    all_steps = steps(workflow("report.yml"))
    aws = [i for i, step in enumerate(all_steps) if uses_secret(step, "AWS_")]
    installs = [i for i, step in enumerate(all_steps) if re.search(r"pip install[^\n]*\bdvc-s3==", step.get("run", ""))]
    assert aws and installs, "AWS credentials without the plugin that reads them"
    assert installs[0] <= aws[0]  # installed in (or before) the first step that hands the credentials to dvc
    install = all_steps[installs[0]]["run"]
    # only for an S3 remote: the install line sits in the `s3://*)` branch of a case on the remote's URL
    assert re.search(r"s3://\*\)\s*[^\n]*pip install[^\n]*dvc-s3", install), install


def test_report_updates_its_comment_instead_of_adding_one_per_push():
    runs = "\n".join(step.get("run", "") for step in steps(workflow("report.yml")))
    assert "cml comment update" in runs and "cml comment create" not in runs


def test_a_test_workflow_runs_make_test_on_pull_requests():
    doc = workflow("test.yml")
    assert "pull_request" in doc["on"]
    assert any(re.search(r"^\s*make test\s*$", step.get("run", ""), re.M) for step in steps(doc))
