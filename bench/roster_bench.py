"""Auto-roster benchmark: CP-SAT against greedy assignment on the same generated month.

    .venv/bin/python -m bench.roster_bench [--cases 100 --meetings 300 --facilitators 100 --time-limit 10]

Generates a deterministic month (seeded) and prints solve time and the roster's quality: unfilled
places (two per meeting), workload spread (meetings per facilitator: min, max, standard deviation),
continuity (share of cases whose meetings all have the same team of two) and the experienced-member
rule. Three methods:

- cp-sat: rj.rostering.solver.solve, a team per case, optimised, started from the greedy plan;
- greedy (team): rj.rostering.solver.greedy, a team per case, most-constrained case first;
- greedy (meeting): the simple baseline, each meeting in time order gets the two least-loaded free
  people, with no thought for continuity.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from rj.rostering import solver as S

UTC = timezone.utc


def generate(*, cases: int = 100, meetings: int = 300, facilitators: int = 100, seed: int = 7,
             year: int = 2026, month: int = 3) -> S.Problem:
    """A realistic month: weekday and evening meetings of 1 to 2 hours, 2-4 meetings per case,
    one case in five at Level 3, volunteers with weekly patterns, leave days and a few conflicts."""
    rng = random.Random(seed)
    days = []
    d = date(year, month, 1)
    while d.month == month:
        if d.weekday() < 6:  # Monday to Saturday
            days.append(d)
        d += timedelta(days=1)

    per_case = [meetings // cases] * cases
    for i in range(meetings - sum(per_case)):
        per_case[i % cases] += 1
    for _ in range(cases // 3):  # vary the counts, keeping the total
        a, b = rng.randrange(cases), rng.randrange(cases)
        if per_case[a] > 1 and per_case[b] < 5:
            per_case[a] -= 1
            per_case[b] += 1

    s_cases = []
    mid = 1
    for cid in range(1, cases + 1):
        level = 3 if rng.random() < 0.2 else 2
        chosen = sorted(rng.sample(range(len(days)), per_case[cid - 1]))
        ms = []
        for day_index in chosen:
            hour = rng.choice([9, 10, 11, 13, 14, 15, 16, 17, 18, 19])
            start = datetime(days[day_index].year, days[day_index].month, days[day_index].day, hour, 0, tzinfo=UTC)
            ms.append(S.SMeeting(id=mid, case_id=cid, starts_at=start,
                                 ends_at=start + timedelta(minutes=rng.choice([60, 90, 120]))))
            mid += 1
        s_cases.append(S.SCase(id=cid, level=level, meetings=tuple(ms)))

    all_meetings = [m for c in s_cases for m in c.meetings]
    s_facs = []
    for fid in range(1, facilitators + 1):
        experienced = rng.random() < 0.4
        level3 = rng.random() < (0.5 if experienced else 0.1)
        weekdays = set(rng.sample(range(6), rng.randint(3, 5)))
        band = rng.choice([(9, 17), (13, 21), (9, 21)])
        leave = set(rng.sample(days, rng.randint(0, 3)))
        eligible = frozenset(
            c.id for c in s_cases
            if (c.level == 2 or level3) and rng.random() > 0.01  # 1%: a declared conflict
        )
        unavailable = frozenset(
            m.id for m in all_meetings
            if m.starts_at.weekday() not in weekdays or m.starts_at.date() in leave
            or m.starts_at.hour < band[0] or (m.ends_at.hour + (m.ends_at.minute > 0)) > band[1]
        )
        s_facs.append(S.SFacilitator(id=fid, eligible_case_ids=eligible, max_per_month=rng.randint(4, 12),
                                     experienced=experienced, unavailable_meeting_ids=unavailable))
    return S.Problem(cases=tuple(s_cases), facilitators=tuple(s_facs), travel_gap=timedelta(minutes=30))


def greedy_per_meeting(problem: S.Problem) -> dict[int, tuple[int, ...]]:
    """The simple baseline: each meeting in time order, the two least-loaded people who can do it."""
    meetings = sorted((m for c in problem.cases for m in c.meetings), key=lambda m: (m.starts_at, m.id))
    load = {f.id: 0 for f in problem.facilitators}
    month_load = {f.id: dict(f.existing_by_month) for f in problem.facilitators}
    taken: dict[int, list[S.SMeeting]] = {f.id: [] for f in problem.facilitators}
    out: dict[int, tuple[int, ...]] = {}
    gap = problem.travel_gap
    for m in meetings:
        usable = [
            f for f in problem.facilitators
            if m.case_id in f.eligible_case_ids and m.id not in f.unavailable_meeting_ids
            and month_load[f.id].get(m.month_key, 0) < f.max_per_month
            and not any(S._overlaps(m.starts_at, m.ends_at, o.starts_at, o.ends_at, gap) for o in taken[f.id])
        ]
        usable.sort(key=lambda f: (load[f.id], f.id))
        pair = S._pick_pair(usable)
        if pair is None:
            out[m.id] = ()
            continue
        for f in pair:
            load[f.id] += 1
            month_load[f.id][m.month_key] = month_load[f.id].get(m.month_key, 0) + 1
            taken[f.id].append(m)
        out[m.id] = tuple(f.id for f in pair)
    return out


def plan_to_meetings(problem: S.Problem, plan: S.Plan) -> dict[int, tuple[int, ...]]:
    return {m.id: plan.teams.get(c.id, ()) for c in problem.cases for m in c.meetings}


@dataclass
class Quality:
    seconds: float
    unfilled_places: int
    places: int
    unfilled_cases: int
    load_min: int
    load_max: int
    load_stddev: float
    continuity: float
    experienced_broken: int
    double_bookings: int
    over_maximum: int


def quality(problem: S.Problem, assigned: dict[int, tuple[int, ...]], seconds: float) -> Quality:
    facs = {f.id: f for f in problem.facilitators}
    meetings = {m.id: m for c in problem.cases for m in c.meetings}
    load = {f.id: 0 for f in problem.facilitators}
    month: dict[tuple[int, tuple[int, int]], int] = {}
    by_fac: dict[int, list[S.SMeeting]] = {f.id: [] for f in problem.facilitators}
    for mid, team in assigned.items():
        for fid in team:
            load[fid] += 1
            key = (fid, meetings[mid].month_key)
            month[key] = month.get(key, 0) + 1
            by_fac[fid].append(meetings[mid])
    double = 0
    for ms in by_fac.values():
        ms.sort(key=lambda m: m.starts_at)
        for i, a in enumerate(ms):
            for b in ms[i + 1:]:
                if b.starts_at >= a.ends_at + problem.travel_gap:
                    break
                double += 1
    kept = unfilled_cases = 0
    for c in problem.cases:
        teams = {frozenset(assigned.get(m.id, ())) for m in c.meetings}
        if len(teams) == 1 and len(next(iter(teams))) == 2:
            kept += 1
        if any(len(assigned.get(m.id, ())) < 2 for m in c.meetings):
            unfilled_cases += 1
    values = list(load.values())
    return Quality(
        seconds=seconds,
        unfilled_places=sum(2 - len(assigned.get(mid, ())) for mid in meetings),
        places=2 * len(meetings),
        unfilled_cases=unfilled_cases,
        load_min=min(values), load_max=max(values), load_stddev=statistics.pstdev(values),
        continuity=kept / len(problem.cases) if problem.cases else 1.0,
        experienced_broken=sum(1 for t in assigned.values() if len(t) == 2 and not any(facs[f].experienced for f in t)),
        double_bookings=double,
        over_maximum=sum(1 for (fid, _), n in month.items() if n > facs[fid].max_per_month),
    )


def run(*, cases: int = 100, meetings: int = 300, facilitators: int = 100, seed: int = 7,
        time_limit: float = 10.0, workers: int | None = None) -> dict[str, Quality]:
    problem = generate(cases=cases, meetings=meetings, facilitators=facilitators, seed=seed)
    results: dict[str, Quality] = {}
    started = time.perf_counter()
    by_meeting = greedy_per_meeting(problem)
    results["greedy (meeting)"] = quality(problem, by_meeting, time.perf_counter() - started)
    team_plan = S.greedy(problem)
    results["greedy (team)"] = quality(problem, plan_to_meetings(problem, team_plan), team_plan.solve_seconds)
    plan = S.solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    results[f"cp-sat [{plan.status}]" if plan.method == "cp-sat" else plan.method] = quality(
        problem, plan_to_meetings(problem, plan), plan.solve_seconds)
    return results


def format_table(results: dict[str, Quality]) -> str:
    header = ("method", "time s", "unfilled places", "unfilled cases", "load min", "load max", "load sd",
              "continuity", "no experienced", "double-booked", "over max")
    rows = [header]
    for name, q in results.items():
        rows.append((name, f"{q.seconds:.2f}", f"{q.unfilled_places}/{q.places}", str(q.unfilled_cases),
                     str(q.load_min), str(q.load_max), f"{q.load_stddev:.2f}", f"{q.continuity:.0%}",
                     str(q.experienced_broken), str(q.double_bookings), str(q.over_maximum)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--meetings", type=int, default=300)
    parser.add_argument("--facilitators", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)
    results = run(cases=args.cases, meetings=args.meetings, facilitators=args.facilitators, seed=args.seed,
                  time_limit=args.time_limit, workers=args.workers)
    print(f"A month of {args.cases} cases, {args.meetings} meetings, {args.facilitators} facilitators "
          f"(seed {args.seed}, CP-SAT time limit {args.time_limit:g} s)")
    print(format_table(results))


if __name__ == "__main__":
    main()
