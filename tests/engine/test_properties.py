"""Property: any sequence of events, allowed or not, keeps state == replay(history) and a sound chain."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import EngineError
from tests import tx
from tests.conftest import BGOV, OFFICE, A, B

ACTORS = [A, B, BGOV, OFFICE]
EVENTS = ["assign", "start", "note", "finish", "reopen", "close", "freeze", "bogus"]
PAYLOADS = {
    "assign": [{"handler": "t_b_bureau"}, {"handler": "t_b_gov", "due": "2026-04-01"}, {"handler": "t_a_bureau"}, {}],
    "note": [{"text": "进展"}, {}],
    "finish": [{"result": "完成", "hours": 2}, {"result": ""}],
}

steps = st.lists(
    st.tuples(st.sampled_from(EVENTS), st.sampled_from(range(len(ACTORS))), st.integers(0, 3)),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=steps)
def test_random_event_sequences_replay(cases, seq):
    case = tx.start(cases, task_force="toy", workflow="ticket", actor=A, title="随机", payload={"summary": "s"})
    accepted = 0
    for event, who, choice in seq:
        options = PAYLOADS.get(event, [{}])
        try:
            case = tx.fire(cases, case.id, event, ACTORS[who], options[choice % len(options)])
            accepted += 1
        except EngineError:
            pass
        assert tx.replay(cases, case.id) == tx.load(cases, case.id).state
    current = tx.load(cases, case.id)
    assert current.version == accepted + 1
    assert len(tx.history(cases, case.id)) == current.version
    assert tx.verify(cases) == []
