"""The monthly auto-roster as an optimisation, on plain data (no database, no Flask).

A case gets a team of two facilitators who stay with it for all its meetings in the period
(continuity), or no team at all. Hard rules, for every team:

- both members are eligible for the case (eligibility is decided by the caller with
  rj.facilitators.services.check_eligibility and passed in as a set of case ids);
- both are available for every meeting of the case (weekly windows, exceptions and meetings they
  are already booked on are decided by the caller and passed in as unavailable meeting ids;
  existing bookings may also be given as busy intervals);
- no facilitator is in two overlapping meetings (with a travel gap between them);
- nobody goes over their maximum meetings in any calendar month;
- at least one member is experienced (a new facilitator is paired with an experienced one).

Objective, in strict priority: fill as many cases as possible, then make the busiest and the least
busy facilitator as close as possible (max load - min load), then flatten the rest (sum of squared
loads). CP-SAT starts from the greedy plan (AddHint), stops at a time limit, and the greedy plan is
returned instead if the solver finds nothing better.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations

MonthKey = tuple[int, int]

# Share of the time limit spent filling cases; the rest evens out the workload.
FILL_SHARE = 0.5


def month_of(dt: datetime) -> MonthKey:
    """Months are counted in UTC here; the caller may pass local-month keys instead via SMeeting.month."""
    return (dt.year, dt.month)


@dataclass(frozen=True)
class SMeeting:
    id: int
    case_id: int
    starts_at: datetime
    ends_at: datetime
    month: MonthKey | None = None  # calendar month the meeting counts against (local time); derived if None

    @property
    def month_key(self) -> MonthKey:
        return self.month or month_of(self.starts_at)


@dataclass(frozen=True)
class SCase:
    id: int
    level: int
    meetings: tuple[SMeeting, ...] = ()
    # A case with no meeting yet in the period still takes a team; it counts as one expected
    # meeting in this month so the workload stays fair and capacity is not overrun.
    placeholder_month: MonthKey | None = None

    def load_by_month(self) -> dict[MonthKey, int]:
        loads: dict[MonthKey, int] = {}
        for m in self.meetings:
            loads[m.month_key] = loads.get(m.month_key, 0) + 1
        if not self.meetings and self.placeholder_month is not None:
            loads[self.placeholder_month] = 1
        return loads

    @property
    def load(self) -> int:
        return sum(self.load_by_month().values())


@dataclass(frozen=True)
class SFacilitator:
    id: int
    eligible_case_ids: frozenset[int]
    max_per_month: int
    experienced: bool
    unavailable_meeting_ids: frozenset[int] = frozenset()
    # Meetings already counted against each month's maximum (booked outside this roster).
    existing_by_month: dict[MonthKey, int] = field(default_factory=dict)
    # Meetings they are already booked on: (starts_at, ends_at).
    busy: tuple[tuple[datetime, datetime], ...] = ()

    def existing_load(self) -> int:
        return sum(self.existing_by_month.values())


@dataclass(frozen=True)
class Problem:
    cases: tuple[SCase, ...]
    facilitators: tuple[SFacilitator, ...]
    travel_gap: timedelta = timedelta(0)


@dataclass
class Plan:
    """A roster proposal: case id -> (lead id, co id). Cases not in `teams` are unfilled."""

    teams: dict[int, tuple[int, int]]
    method: str  # "cp-sat" | "greedy" | "greedy (solver found nothing better)"
    status: str = ""
    solve_seconds: float = 0.0

    def unfilled_case_ids(self, problem: Problem) -> list[int]:
        return [c.id for c in problem.cases if c.id not in self.teams]


# ---------------------------------------------------------------------------------------------
# Feasibility of a single facilitator for a single case, shared by greedy and CP-SAT.

def _overlaps(a_start, a_end, b_start, b_end, gap: timedelta) -> bool:
    return a_start < b_end + gap and b_start < a_end + gap


def _cases_conflict(a: SCase, b: SCase, gap: timedelta) -> bool:
    return any(_overlaps(x.starts_at, x.ends_at, y.starts_at, y.ends_at, gap)
               for x in a.meetings for y in b.meetings)


def candidates_for(problem: Problem) -> dict[int, list[SFacilitator]]:
    """For each case, the facilitators who could be on its team taken on their own."""
    gap = problem.travel_gap
    out: dict[int, list[SFacilitator]] = {}
    for case in problem.cases:
        loads = case.load_by_month()
        ok = []
        for f in problem.facilitators:
            if case.id not in f.eligible_case_ids:
                continue
            if any(m.id in f.unavailable_meeting_ids for m in case.meetings):
                continue
            if any(f.existing_by_month.get(k, 0) + n > f.max_per_month for k, n in loads.items()):
                continue
            if any(_overlaps(m.starts_at, m.ends_at, s, e, gap) for m in case.meetings for s, e in f.busy):
                continue
            ok.append(f)
        out[case.id] = ok
    return out


def conflicting_case_pairs(problem: Problem) -> set[tuple[int, int]]:
    """Pairs of cases with overlapping meetings (within the travel gap): no one may be on both."""
    gap = problem.travel_gap
    events = sorted(((m.starts_at, m.ends_at, c.id) for c in problem.cases for m in c.meetings))
    pairs: set[tuple[int, int]] = set()
    # Sweep in start order: only meetings starting before this one ends (+gap) can overlap it.
    for i, (s1, e1, c1) in enumerate(events):
        for s2, e2, c2 in events[i + 1:]:
            if s2 >= e1 + gap:
                break
            if c1 != c2 and _overlaps(s1, e1, s2, e2, gap):
                pairs.add((min(c1, c2), max(c1, c2)))
    return pairs


def overlap_cliques(problem: Problem) -> list[frozenset[int]]:
    """Sets of cases that have a meeting running at the same moment (each meeting's start),
    maximal ones only. Two cases conflict exactly when they share one of these sets."""
    gap = problem.travel_gap
    events = [(m.starts_at, m.ends_at + gap, c.id) for c in problem.cases for m in c.meetings]
    groups: set[frozenset[int]] = set()
    for t in sorted({s for s, _, _ in events}):
        group = frozenset(cid for s, e, cid in events if s <= t < e)
        if len(group) > 1:
            groups.add(group)
    return [g for g in groups if not any(g < other for other in groups)]


def _order_team(a: SFacilitator, b: SFacilitator) -> tuple[int, int]:
    """The experienced member leads; between equals, keep a stable order."""
    if b.experienced and not a.experienced:
        a, b = b, a
    return a.id, b.id


# ---------------------------------------------------------------------------------------------
# Greedy: the hint and the fallback.

def greedy(problem: Problem) -> Plan:
    """Most-constrained case first; each gets the least-loaded pair that keeps every rule."""
    started = time.perf_counter()
    cands = candidates_for(problem)
    conflicts = conflicting_case_pairs(problem)
    conflict_map: dict[int, set[int]] = {c.id: set() for c in problem.cases}
    for a, b in conflicts:
        conflict_map[a].add(b)
        conflict_map[b].add(a)
    by_id = {f.id: f for f in problem.facilitators}
    month_load = {f.id: dict(f.existing_by_month) for f in problem.facilitators}
    total_load = {f.id: f.existing_load() for f in problem.facilitators}
    assigned_cases: dict[int, set[int]] = {f.id: set() for f in problem.facilitators}
    teams: dict[int, tuple[int, int]] = {}

    order = sorted(problem.cases, key=lambda c: (len(cands[c.id]), -c.load, c.id))
    for case in order:
        loads = case.load_by_month()
        usable = [
            f for f in cands[case.id]
            if not (assigned_cases[f.id] & conflict_map[case.id])
            and all(month_load[f.id].get(k, 0) + n <= f.max_per_month for k, n in loads.items())
        ]
        usable.sort(key=lambda f: (total_load[f.id], f.id))
        pair = _pick_pair(usable)
        if pair is None:
            continue
        for f in pair:
            assigned_cases[f.id].add(case.id)
            total_load[f.id] += case.load
            for k, n in loads.items():
                month_load[f.id][k] = month_load[f.id].get(k, 0) + n
        teams[case.id] = _order_team(by_id[pair[0].id], by_id[pair[1].id])
    return Plan(teams=teams, method="greedy", status="greedy", solve_seconds=time.perf_counter() - started)


def _pick_pair(usable: list[SFacilitator]) -> tuple[SFacilitator, SFacilitator] | None:
    if len(usable) < 2:
        return None
    first = usable[0]
    if first.experienced:
        return first, usable[1]
    partner = next((f for f in usable[1:] if f.experienced), None)
    if partner is None:
        return None  # no experienced person is free: no pair keeps the pairing rule
    return first, partner


# ---------------------------------------------------------------------------------------------
# CP-SAT

def solve(problem: Problem, *, time_limit: float = 10.0, workers: int | None = None,
          seed: int = 0, use_hint: bool = True) -> Plan:
    """The optimal roster within `time_limit` seconds, or the greedy plan if that is not beaten."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    base = greedy(problem)
    if not problem.cases:
        return Plan(teams={}, method="cp-sat", status="EMPTY", solve_seconds=0.0)

    cands = candidates_for(problem)
    model = cp_model.CpModel()
    x: dict[tuple[int, int], object] = {}
    for case in problem.cases:
        for f in cands[case.id]:
            x[f.id, case.id] = model.NewBoolVar(f"x_{f.id}_{case.id}")
    filled = {c.id: model.NewBoolVar(f"y_{c.id}") for c in problem.cases}
    by_id = {f.id: f for f in problem.facilitators}

    for case in problem.cases:
        members = [x[f.id, case.id] for f in cands[case.id]]
        experienced = [x[f.id, case.id] for f in cands[case.id] if f.experienced]
        if len(members) < 2 or not experienced:
            model.Add(filled[case.id] == 0)
            for v in members:
                model.Add(v == 0)
            continue
        model.Add(sum(members) == 2 * filled[case.id])
        model.Add(sum(experienced) >= filled[case.id])

    # No double-booking: at any meeting's start, a facilitator is on at most one of the cases
    # with a meeting running then (travel gap included). Cliques at start points cover every
    # overlapping pair and propagate better than pairwise constraints.
    for group in overlap_cliques(problem):
        for f in problem.facilitators:
            mine = [x[f.id, cid] for cid in group if (f.id, cid) in x]
            if len(mine) > 1:
                model.AddAtMostOne(mine)

    # Monthly maximum, and the workload each person ends up with.
    case_loads = {c.id: c.load_by_month() for c in problem.cases}
    loads = {}
    bounds = {}
    for f in problem.facilitators:
        mine = [(c.id, x[f.id, c.id]) for c in problem.cases if (f.id, c.id) in x]
        months = {k for cid, _ in mine for k in case_loads[cid]}
        for k in months:
            terms = [case_loads[cid][k] * v for cid, v in mine if case_loads[cid].get(k, 0)]
            model.Add(f.existing_by_month.get(k, 0) + sum(terms) <= f.max_per_month)
        bounds[f.id] = f.existing_load() + sum(sum(case_loads[cid].values()) for cid, _ in mine)
        load = model.NewIntVar(0, bounds[f.id], f"load_{f.id}")
        model.Add(load == f.existing_load() + sum(sum(case_loads[cid].values()) * v for cid, v in mine))
        loads[f.id] = load

    # Fairness is measured over the people who could take any of these cases at all.
    pool = [f.id for f in problem.facilitators if any((f.id, c.id) in x for c in problem.cases)]
    n_filled = sum(filled.values())

    if use_hint:
        members_of = {cid: set(team) for cid, team in base.teams.items()}
        for (fid, cid), v in x.items():
            model.AddHint(v, 1 if fid in members_of.get(cid, ()) else 0)
        for cid, v in filled.items():
            model.AddHint(v, 1 if cid in base.teams else 0)

    # Two phases, in strict priority: first fill as many cases as possible, then, keeping that
    # many filled, spread the work as evenly as possible (FILL_SHARE of the time, then the rest).
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers or min(8, os.cpu_count() or 1)
    solver.parameters.random_seed = seed
    model.Maximize(n_filled)
    solver.parameters.max_time_in_seconds = max(0.1, float(time_limit) * FILL_SHARE)
    status = solver.Solve(model)
    statuses = [solver.StatusName(status)]
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Plan(teams=base.teams, method="greedy (solver found nothing better)", status=statuses[0],
                    solve_seconds=time.perf_counter() - started)
    best_filled = int(round(solver.ObjectiveValue()))
    values = {key: solver.Value(v) for key, v in x.items()}
    filled_values = {cid: solver.Value(v) for cid, v in filled.items()}

    if pool:
        model.Add(n_filled >= best_filled)
        model.ClearHints()
        for key, v in x.items():
            model.AddHint(v, values[key])
        for cid, v in filled.items():
            model.AddHint(v, filled_values[cid])
        top = max(bounds[i] for i in pool)
        hi = model.NewIntVar(0, top, "max_load")
        lo = model.NewIntVar(0, top, "min_load")
        model.AddMaxEquality(hi, [loads[i] for i in pool])
        model.AddMinEquality(lo, [loads[i] for i in pool])
        squares = []
        for i in pool:
            sq = model.NewIntVar(0, bounds[i] ** 2, f"sq_{i}")
            model.AddMultiplicationEquality(sq, [loads[i], loads[i]])
            squares.append(sq)
        # One less spread (max - min) beats any flattening of the rest (sum of squares).
        spread_weight = sum(bounds[i] ** 2 for i in pool) + 1
        model.Minimize(spread_weight * (hi - lo) + sum(squares))
        remaining = float(time_limit) - (time.perf_counter() - started)
        solver.parameters.max_time_in_seconds = max(0.1, remaining)
        status2 = solver.Solve(model)
        statuses.append(solver.StatusName(status2))
        if status2 in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            values = {key: solver.Value(v) for key, v in x.items()}
            filled_values = {cid: solver.Value(v) for cid, v in filled.items()}
    elapsed = time.perf_counter() - started
    name = "/".join(statuses)

    teams: dict[int, tuple[int, int]] = {}
    for case in problem.cases:
        if not filled_values[case.id]:
            continue
        chosen = [by_id[f.id] for f in cands[case.id] if values[f.id, case.id]]
        teams[case.id] = _order_team(chosen[0], chosen[1])
    if len(teams) < len(base.teams):
        return Plan(teams=base.teams, method="greedy (solver found nothing better)", status=name,
                    solve_seconds=elapsed)
    return Plan(teams=teams, method="cp-sat", status=name, solve_seconds=elapsed)


# ---------------------------------------------------------------------------------------------
# Checking a plan (tests and the benchmark use it; so can a cautious caller).

def violations(problem: Problem, plan: Plan) -> list[str]:
    """Every broken hard rule in a plan, as readable strings; empty when the plan is valid."""
    out: list[str] = []
    cases = {c.id: c for c in problem.cases}
    facs = {f.id: f for f in problem.facilitators}
    cands = {cid: {f.id for f in fs} for cid, fs in candidates_for(problem).items()}
    per_fac: dict[int, list[int]] = {}
    for cid, (lead, co) in plan.teams.items():
        if lead == co:
            out.append(f"case {cid}: the same facilitator twice")
        for fid in (lead, co):
            if fid not in cands[cid]:
                out.append(f"case {cid}: facilitator {fid} not eligible, available or within their maximum")
            per_fac.setdefault(fid, []).append(cid)
        if not (facs[lead].experienced or facs[co].experienced):
            out.append(f"case {cid}: no experienced member")
    for fid, cids in per_fac.items():
        f = facs[fid]
        for a, b in combinations(cids, 2):
            if _cases_conflict(cases[a], cases[b], problem.travel_gap):
                out.append(f"facilitator {fid}: cases {a} and {b} overlap")
        month: dict[MonthKey, int] = dict(f.existing_by_month)
        for cid in cids:
            for k, n in cases[cid].load_by_month().items():
                month[k] = month.get(k, 0) + n
        for k, n in month.items():
            if n > f.max_per_month:
                out.append(f"facilitator {fid}: {n} meetings in {k[0]}-{k[1]:02d}, maximum {f.max_per_month}")
    return out


def loads(problem: Problem, plan: Plan) -> dict[int, int]:
    """Meetings per facilitator after the plan (existing bookings included)."""
    out = {f.id: f.existing_load() for f in problem.facilitators}
    cases = {c.id: c for c in problem.cases}
    for cid, team in plan.teams.items():
        for fid in team:
            out[fid] += cases[cid].load
    return out
