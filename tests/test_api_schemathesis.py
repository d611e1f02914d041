"""Fuzz the served OpenAPI schema over real HTTP with an API token (schemathesis CLI).

Every operation gets generated requests, valid and invalid; no response may be a server
error, use an undocumented status or content type, or break its documented schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accord.org.services import api_token_create
from tests.conftest import make_account

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = os.environ.get("ACCORD_FUZZ_EXAMPLES", "25")


def test_served_api_conforms_to_its_schema(org: Any, live_server: Any, tmp_path: Path) -> None:
    # given: a little data and an administrator's token
    make_account(org, legal_name="Fuzz Target Co., Ltd.")
    token = api_token_create(user=org.admin).secret
    st = Path(sys.executable).with_name("schemathesis")
    report = tmp_path / "junit.xml"
    # when
    result = subprocess.run(
        [
            str(st),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {token}",
            "--checks",
            CHECKS,
            "--max-examples",
            MAX_EXAMPLES,
            "--seed",
            "20261123",
            "--workers",
            "1",
            "--phases",
            "examples,fuzzing,stateful",
            "--report",
            "junit",
            "--report-junit-path",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
