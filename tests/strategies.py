"""Hypothesis strategies for valid declarations."""

from __future__ import annotations

from hypothesis import strategies as st

from converter.fields import HEADER, declaration_from
from converter.model import FIRST_DATE, YEAR_MAX, YEAR_MIN, Budget, Declaration, Indicator, Kind, Project
from converter.profile import load_profile, profile_names

ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\n\t",
                        exclude_characters="\ufffe\uffff")
texts = st.none() | st.text(ALPHABET, max_size=40)
long_texts = st.none() | st.text(ALPHABET, max_size=300)
money = st.none() | st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False,
                                allow_infinity=False)
dates = st.none() | st.dates(min_value=FIRST_DATE)

indicators = st.builds(Indicator, level1=texts, level2=texts, name=texts, target=texts)
projects = st.builds(
    Project, name=texts, category=texts, start_date=dates, end_date=dates,
    includes_government_procurement=st.none() | st.booleans(), performance_type=texts, overview=long_texts,
    basis=long_texts, necessity=long_texts, safeguards=long_texts, implementation_plan=long_texts,
    goals=long_texts,
)
budgets = st.builds(Budget, total=money, current_year=money, prior_year_budget=money, prior_year_executed=money)
declarations = st.builds(
    Declaration, profile=st.sampled_from(profile_names()), year=st.none() | st.integers(1900, 2999),
    unit_name=texts, project=projects, budget=budgets, indicators=st.lists(indicators, max_size=8),
)


def _texts_for(kind: Kind) -> st.SearchStrategy[object]:
    return long_texts if kind is Kind.LONG_TEXT else texts


@st.composite
def declarations_of(draw: st.DrawFn, name: str | None = None) -> Declaration:
    """A valid declaration of a profile (any profile when ``name`` is None), holding only what its form prints:
    its header fields, its table's columns, and for a form with long-term and annual tables, rows of each,
    listed table by table as the form shows them."""
    profile = load_profile(name or draw(st.sampled_from(profile_names())))
    fields: dict[str, object] = {}
    for path in profile.header_paths():
        kind = HEADER[path].kind
        strategy = {Kind.MONEY: money, Kind.DATE: dates, Kind.FLAG: st.none() | st.booleans(),
                    Kind.YEAR: st.none() | st.integers(YEAR_MIN, YEAR_MAX)}.get(kind, _texts_for(kind))
        fields[path] = draw(strategy)
    keys = [c.key for c in profile.form.table.columns]
    periods = profile.form.table.periods or (None,)
    rows = []
    for period in periods:
        for _ in range(draw(st.integers(0, 4))):
            row = Indicator(**{k: draw(texts) for k in keys}, period=period)
            if any(getattr(row, k) is not None for k in keys):
                rows.append(row)
    return declaration_from(fields, profile=profile.name, indicators=rows)
