"""The Contracts page's query string, validated: each bad value names its field and the rule."""

from __future__ import annotations

import pytest

from airflow_provider_esign.contracts.records import MAX_PER_PAGE, Filters, parse_filters
from airflow_provider_esign.exceptions import ESignValidationError


def test_defaults_newest_first():
    assert parse_filters({}) == Filters()
    assert not Filters().needs_live_status and not Filters().sql_filtered


def test_every_filter_is_read_and_trimmed():
    filters = parse_filters(
        {"conn_id": " esb ", "status": "in_flight", "older_than_days": "7.5", "q": "NDA", "dag_id": "d",
         "sort": "name", "page": "3", "per_page": str(MAX_PER_PAGE)}
    )  # fmt: skip
    assert filters == Filters("esb", "IN_FLIGHT", 7.5, "NDA", "d", "name", False, 3, MAX_PER_PAGE)
    assert filters.needs_live_status and filters.sql_filtered
    assert parse_filters({"sort": "-status"}).needs_live_status


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "LOST"}, "status"),
        ({"sort": "size"}, "sort"),
        ({"page": "0"}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": str(MAX_PER_PAGE + 1)}, "per_page"),
        ({"older_than_days": "-1"}, "older_than_days"),
        ({"q": "x" * 201}, "q"),
    ],
)
def test_a_bad_value_names_its_field(params, field):
    with pytest.raises(ESignValidationError) as excinfo:
        parse_filters(params)
    assert excinfo.value.field == field
