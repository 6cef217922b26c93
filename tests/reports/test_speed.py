"""Every dashboard and report runs a fixed number of queries however many cases there are."""
from __future__ import annotations

import pytest

from tests.reports.conftest import make_facilitator, populate

PAGES = {
    "coordinator": ["/home"],
    "manager": ["/home", "/reports", "/reports/quarterly", "/reports/quarterly.csv",
                *[f"/reports/{name}.csv" for name in (
                    "referrals-by-month", "referrals-by-source", "referrals-by-category", "cases-by-level",
                    "conversion", "time-to-contact", "consent", "agreements", "satisfaction", "victims-code",
                    "facilitator-activity", "training-compliance")]],
}


def _fresh(db, ids):
    """A new session (as each real request gets), and the facilitators loaded in it."""
    from rj.facilitators.models import Facilitator

    db.session.remove()
    return [db.session.get(Facilitator, i) for i in ids]


def _counts(client, urls, count_queries):
    from rj.extensions import db

    out = {}
    for url in urls:
        db.session.remove()  # nothing cached from an earlier request
        with count_queries() as n:
            response = client.get(url)
        assert response.status_code == 200, url
        out[url] = n["n"]
    return out


@pytest.mark.parametrize("role", ["coordinator", "manager"])
def test_dashboards_and_reports_run_the_same_number_of_queries_for_3_and_30_cases(app, db, make_user, login,
                                                                                  count_queries, role):
    ids = [make_facilitator(make_user("facilitator")).id for _ in range(2)]
    client = app.test_client()
    login(make_user(role), c=client)
    populate(3, facilitators=_fresh(db, ids))
    few = _counts(client, PAGES[role], count_queries)
    populate(27, facilitators=_fresh(db, ids))
    many = _counts(client, PAGES[role], count_queries)
    assert many == few


def test_the_facilitator_home_runs_the_same_number_of_queries_for_3_and_30_cases(app, db, make_user, login,
                                                                                 count_queries):
    user = make_user("facilitator")
    ids = [make_facilitator(user).id, make_facilitator(make_user("facilitator")).id]
    client = app.test_client()
    login(user, c=client)
    populate(3, facilitators=_fresh(db, ids))
    db.session.remove()
    with count_queries() as few:
        assert client.get("/me/home").status_code == 200
    populate(27, facilitators=_fresh(db, ids))
    db.session.remove()
    with count_queries() as many:
        assert client.get("/me/home").status_code == 200
    assert many["n"] == few["n"]
