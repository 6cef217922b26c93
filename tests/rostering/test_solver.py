"""The auto-roster optimisation on small plain-data instances (no database)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bench import roster_bench
from rj.rostering import solver as S

UTC = timezone.utc
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def meeting(mid, cid, hours_from_start, minutes=60):
    start = T0 + timedelta(hours=hours_from_start)
    return S.SMeeting(id=mid, case_id=cid, starts_at=start, ends_at=start + timedelta(minutes=minutes))


def fac(fid, cases, *, experienced=False, max_per_month=10, unavailable=(), existing=None):
    return S.SFacilitator(id=fid, eligible_case_ids=frozenset(cases), max_per_month=max_per_month,
                          experienced=experienced, unavailable_meeting_ids=frozenset(unavailable),
                          existing_by_month=existing or {})


def test_every_team_has_two_eligible_people_and_one_experienced():
    cases = (S.SCase(1, 2, (meeting(1, 1, 0),)), S.SCase(2, 2, (meeting(2, 2, 24),)))
    facs = (fac(1, {1, 2}), fac(2, {1, 2}), fac(3, {1, 2}, experienced=True), fac(4, {2}, experienced=True))
    problem = S.Problem(cases, facs)
    plan = S.solve(problem, time_limit=5)
    assert set(plan.teams) == {1, 2}
    assert S.violations(problem, plan) == []
    for lead, co in plan.teams.values():
        assert {lead, co} & {3, 4}
        assert lead in (3, 4)  # the experienced member leads


def test_two_new_facilitators_never_make_a_team():
    problem = S.Problem((S.SCase(1, 2, (meeting(1, 1, 0),)),), (fac(1, {1}), fac(2, {1})))
    assert S.solve(problem, time_limit=2).teams == {}
    assert S.greedy(problem).teams == {}


def test_overlapping_meetings_never_share_a_facilitator_even_with_travel_gap():
    # Case 2's meeting starts 15 minutes after case 1's ends: inside a 30-minute travel gap.
    cases = (S.SCase(1, 2, (meeting(1, 1, 0),)), S.SCase(2, 2, (meeting(2, 2, 1.25),)))
    facs = (fac(1, {1, 2}, experienced=True), fac(2, {1, 2}), fac(3, {1, 2}))
    problem = S.Problem(cases, facs, travel_gap=timedelta(minutes=30))
    plan = S.solve(problem, time_limit=2)
    assert len(plan.teams) == 1  # only one experienced person, who cannot be in both
    assert S.violations(problem, plan) == []
    assert len(S.solve(S.Problem(cases, facs, travel_gap=timedelta(0)), time_limit=2).teams) == 2


def test_unavailable_and_monthly_maximum_are_respected():
    cases = (S.SCase(1, 2, (meeting(1, 1, 0), meeting(2, 1, 48))), S.SCase(2, 2, (meeting(3, 2, 24),)))
    facs = (
        fac(1, {1, 2}, experienced=True, max_per_month=2, existing={(2026, 3): 1}),  # room for one meeting
        fac(2, {1, 2}, experienced=True, unavailable={3}),
        fac(3, {1, 2}),
    )
    problem = S.Problem(cases, facs)
    plan = S.solve(problem, time_limit=2)
    assert S.violations(problem, plan) == []
    assert plan.teams == {1: (2, 3), 2: (1, 3)}


def test_ineligible_facilitator_is_never_used():
    cases = (S.SCase(1, 3, (meeting(1, 1, 0),)),)
    facs = (fac(1, set(), experienced=True), fac(2, {1}, experienced=True), fac(3, {1}))
    plan = S.solve(S.Problem(cases, facs), time_limit=2)
    assert 1 not in plan.teams[1]


def test_workload_is_spread_evenly_when_everything_fits():
    cases = tuple(S.SCase(i, 2, (meeting(i, i, 24 * i),)) for i in range(1, 5))
    facs = tuple(fac(i, set(range(1, 5)), experienced=i <= 2) for i in range(1, 5))
    problem = S.Problem(cases, facs)
    plan = S.solve(problem, time_limit=5)
    assert len(plan.teams) == 4
    assert sorted(S.loads(problem, plan).values()) == [2, 2, 2, 2]


def test_greedy_plan_is_returned_when_the_solver_has_no_time():
    problem = roster_bench.generate(cases=6, meetings=12, facilitators=8, seed=3)
    plan = S.solve(problem, time_limit=0.0001)
    assert S.violations(problem, plan) == []
    assert len(plan.teams) >= len(S.greedy(problem).teams)


def test_benchmark_runs_on_a_tiny_instance_and_cp_sat_is_never_worse_on_unfilled_places():
    results = roster_bench.run(cases=8, meetings=20, facilitators=10, seed=1, time_limit=3, workers=1)
    table = roster_bench.format_table(results)
    assert "greedy (team)" in table
    cp = list(results.values())[-1]  # cp-sat, or its greedy fallback
    assert cp.unfilled_places <= results["greedy (team)"].unfilled_places
    assert cp.double_bookings == cp.over_maximum == cp.experienced_broken == 0
    assert cp.continuity >= results["greedy (team)"].continuity or cp.unfilled_cases < results["greedy (team)"].unfilled_cases
