"""Hypothesis strategies for valid declarations."""

from __future__ import annotations

from hypothesis import strategies as st

from converter.model import FIRST_DATE, Budget, Declaration, Indicator, Project
from converter.profile import profile_names

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
