"""Schemathesis against the app's own OpenAPI description, signed in as each demo role.

Every operation gets generated requests — valid ones (positive) and invalid ones (negative), on
made-up ids and on ids of real cases the role may or may not see — and every response must be no
server error and must match what the description declares: status code, content type, headers and
body schema. The numbers are written to test-artifacts/schemathesis-<backend>.txt.

GONGZHI_SCHEMATHESIS_EXAMPLES sets the examples generated per (operation, mode, id kind); each is sent
as every role. The default 5 keeps the run near 20 s per backend on a 2-core machine.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections import Counter
from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import PASSWORD
from tests.api.test_attachments import PDF

EXAMPLES = int(os.environ.get("GONGZHI_SCHEMATHESIS_EXAMPLES", "5"))
ROLES = ("office", "convenor", "gy_sthjj", "gy_qz_gov", "as_sthjj", "ga_sthjj", "inspector", "procurator", "observer")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def seed(api, client, login) -> dict[str, int]:
    """Real ids for the generator to hit: a referral in progress with an attachment, and a briefing."""
    case = api.referral("gy_sthjj", "gy_qz_gov")
    api.ok("gy_qz_gov", case["id"], "accept")
    api.ok("gy_qz_gov", case["id"], "start_work")
    r = client.post(f"/cases/{case['id']}/attachments", headers=login("gy_qz_gov"),
                    files={"file": ("报告.pdf", PDF, "application/pdf")})
    assert r.status_code == 201
    api.create("office", "通报", workflow="api_briefing", parties={"invited": ["gz_observers"]}, payload={})
    referral_def = next(d["id"] for d in api.get("office", "/definitions").json() if d["name"] == "referral")
    return {"case_id": case["id"], "attachment_id": r.json()["id"], "definition_id": referral_def}


def generate(strategy, n: int) -> list:
    """Up to n generated cases; generated once, then sent as every role (generation is the slow part)."""
    out: list = []

    @given(case=strategy)
    @settings(max_examples=n, deadline=None, database=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def collect(case) -> None:
        out.append(case)

    # Unsatisfiable: nothing to make invalid — an operation without parameters or body has no negative cases.
    with contextlib.suppress(Unsatisfiable):
        collect()
    return out


def send(case, headers: dict[str, str]):
    # Generated credentials would replace the role's own (an X-API-Key, even a bad one, wins over a
    # bearer token); unauthenticated requests are covered in test_accounts_api.
    for name in [h for h in case.headers or {} if h.lower() in ("authorization", "x-api-key")]:
        del case.headers[name]
    if case.cookies:
        case.cookies.pop("gongzhi_session", None)
    return case.call_and_validate(headers=headers, checks=CHECKS)


def test_no_server_error_and_every_response_matches_the_description(app, api, client, login, backend):
    real = seed(api, client, login)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started = time.perf_counter()
    generated: dict[str, list] = {}
    for result in schema.get_all_operations():
        op = result.ok()
        fixed = {k: v for k, v in real.items() if "{" + k + "}" in op.path}
        generated[op.label] = [case for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
                               for path_parameters in ([None, fixed] if fixed else [None])
                               for case in generate(op.as_strategy(generation_mode=mode,
                                                                   path_parameters=path_parameters), EXAMPLES)]
    counts: Counter[str] = Counter()
    statuses: Counter[int] = Counter()
    # The fuzzer sprays wrong passwords at /auth/token from its own address, which the sign-in throttle
    # slows (429, documented); the roles sign in from another address, as their owners would.
    owners = TestClient(app, client=("192.0.2.10", 50000))
    for role in ROLES:
        for label, cases in generated.items():
            # A fresh sign-in per operation: fuzzing /auth/logout must not sign the next one out.
            token = owners.post("/auth/token", data={"username": role, "password": PASSWORD}).json()
            headers = {"Authorization": f"Bearer {token['access_token']}"}
            for case in cases:
                statuses[send(case, headers).status_code] += 1
                counts[label] += 1
    operations = list(generated)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    summary = (f"schemathesis {schemathesis.__version__} on {backend}: {total} generated requests, "
               f"{len(operations)} operations x {len(ROLES)} roles x positive/negative, {elapsed:.1f} s; "
               f"statuses {dict(sorted(statuses.items()))}; 0 failures\n")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"schemathesis-{backend}.txt").write_text(summary + "".join(
        f"  {n:5d}  {label}\n" for label, n in sorted(counts.items())), encoding="utf-8")
    print(summary)
    assert len(counts) == len(operations)
    assert statuses[200] > 0 and statuses[404] > 0 and statuses[422] > 0
