"""The figures grammar alone: what it accepts, what it refuses, and shares that always add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.figures_grammar import GrammarError, Names, Scope, compile_expr, shares

NAMES = Names(figures=frozenset({"fund", "weights"}), selections=frozenset({"months"}),
              fields=frozenset({"year", "rate"}), roles={"months": frozenset({"county"})},
              numeric={"months": frozenset({"score"})})


class _Scope(Scope):
    def __init__(self, figures=None, fields=None, rows=()):
        self.figures, self.fields, self.rows = figures or {}, fields or {}, list(rows)

    def figure(self, name):
        return self.figures[name]

    def field(self, name):
        return self.fields.get(name)

    # What the database answers (db/repositories/figures.py), from a list of (data, parties).
    def count(self, selection, by):
        if by is None:
            return Decimal(len(self.rows))
        out = {}
        for _, parties in self.rows:
            for unit in parties.get(by, []):
                out[unit] = out.get(unit, 0) + 1
        return {u: Decimal(n) for u, n in sorted(out.items())}

    def values(self, selection, field, by):
        if by is None:
            return [(None, data.get(field)) for data, _ in self.rows]
        return [(unit, data.get(field)) for data, parties in self.rows for unit in parties.get(by, [])]


def run(text, **scope):
    return compile_expr(text, NAMES)(_Scope(**scope))


def test_arithmetic_in_either_spelling_is_exact_decimal():
    assert run("(1 + 2) × 3 ÷ 4 − 0.1") == Decimal("2.15")
    assert run("0.1 + 0.2") == Decimal("0.3")  # not 0.30000000000000004
    assert run("round(2.675, 2)") == Decimal("2.68")  # half up, as money is rounded
    assert run("1 / 0") is None and run("ratio(1, 0) + 1") is None
    assert run("1 < 2 <= 2 and not 3 == 4") is True
    assert run("5 if year > 2025 else 6", fields={"year": Decimal(2026)}) == 5
    assert run("max(1, 7, 3) - min(4, 2) + abs(-1) + floor(2.5) + ceil(2.1)") == Decimal(11)


def test_aggregates_over_selected_cases_and_by_party():
    rows = [({"score": 90}, {"county": ["a"]}), ({"score": "85.5"}, {"county": ["b"]}),
            ({"score": None}, {"county": ["a"]}), ({"score": 70}, {"county": ["a", "b"]})]
    assert run("count(months)", rows=rows) == 4
    assert run("sum(months, score)", rows=rows) == Decimal("245.5")
    assert run("mean(months, score)", rows=rows) == Decimal("245.5") / 3
    assert run('sum(months, score, by="county")', rows=rows) == {"a": 160, "b": Decimal("155.5")}
    assert run('count(months, by="county") × 2', rows=rows) == {"a": 6, "b": 4}
    assert run("mean(months, score)", rows=[]) is None and run("sum(months, score)", rows=[]) == 0


def test_shares_by_the_largest_remainder_sum_exactly():
    # 100.00 in three equal parts: 33.34 + 33.33 + 33.33 (the first by code takes the fen left over).
    assert shares(Decimal(100), {"b": 1, "a": 1, "c": 1}) == {"a": Decimal("33.34"), "b": Decimal("33.33"),
                                                                "c": Decimal("33.33")}
    assert run("shares(fund, weights)", figures={"fund": Decimal(10), "weights": {"x": 0, "y": 3}}) == {
        "y": Decimal("10.00")}
    assert run("shares(fund, weights, step=1)", figures={"fund": Decimal(10), "weights": {"x": 1, "y": 2}}) == {
        "x": Decimal(3), "y": Decimal(7)}


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=12))
def test_shares_always_add_up_to_the_total(total, weights):
    out = shares(total, {f"u{i:02d}": w for i, w in enumerate(weights)})
    assert sum(out.values()) == total
    whole = sum(weights)
    for i, w in enumerate(weights):  # each share is within a fen of its exact quota
        assert abs(out[f"u{i:02d}"] - total * w / whole) < Decimal("0.01")


@pytest.mark.parametrize(("text", "problem"), [
    ("__import__('os').system('x')", "unknown function \"__import__('os').system\""),
    ("fund.real", "is not allowed"),
    ("weights[0]", "is not allowed"),
    ("(lambda: 1)()", "unknown function"),
    ("'text'", "is not a number"),
    ("months + 1", "is a selection of cases"),
    ("nobody", "unknown name 'nobody'; figures and fields here: fund, rate, weights, year"),
    ("sum(months, colour)", "'colour' is not a number field of the cases of 'months'; number fields: score"),
    ('count(months, by="mayor")', "not a party role of the cases of 'months'; roles: county"),
    ("count(fund)", "'fund' is not one; selections: months"),
    ("round(1, 2, 3)", "round() takes 1–2 argument(s), not 3"),
    ("1 +", "cannot parse"),
    ("x := 1", "cannot parse"),
])
def test_anything_outside_the_grammar_is_refused(text, problem):
    with pytest.raises(GrammarError) as refused:
        compile_expr(text, NAMES)
    assert problem in str(refused.value)
