"""Disclosure control: small counts suppressed, and totals that cannot give them away."""
from __future__ import annotations

import pytest

from rj.reports.services import SECONDARY, SMALL, Report, safe_count, suppress_grid, suppress_list


@pytest.mark.parametrize("n, shown", [(0, "0"), (1, SMALL), (4, SMALL), (5, "5"), (12, "12")])
def test_counts_from_1_to_4_are_shown_as_less_than_5_and_0_and_5_are_shown(n, shown):
    assert safe_count(n) == shown


def test_a_single_small_cell_in_a_column_with_a_total_takes_the_next_smallest_cell_with_it():
    cells, total = suppress_list([3, 10, 7, 0])
    assert cells == [SMALL, "10", SECONDARY, "0"]
    assert total == "20"


def test_a_single_small_cell_whose_others_are_zero_takes_the_total_with_it():
    cells, total = suppress_list([2, 0, 0])
    assert cells == [SMALL, "0", "0"]
    assert total == SMALL  # 2 is small itself


def test_a_small_cell_beside_zeros_and_a_large_total_withholds_the_total():
    result = suppress_grid([[3, 0], [6, 0]], row_totals=True, col_totals=True)
    # Row 0 is 3 | 0 | 3: its total is small too. Column 0 then has two hidden cells.
    assert result["cells"][0][0] == SMALL
    assert result["row_totals"][0] == SMALL


def test_two_small_cells_in_a_line_need_no_secondary_suppression():
    cells, total = suppress_list([2, 3, 40])
    assert cells == [SMALL, SMALL, "40"]
    assert total == "45"


def test_no_small_cells_means_nothing_is_withheld():
    cells, total = suppress_list([5, 0, 9])
    assert cells == ["5", "0", "9"] and total == "14"


def _recoverable(grid, result) -> bool:
    """Could any hidden cell be worked out from a shown total minus shown cells in its line?"""
    nrows, ncols = len(grid), len(grid[0])
    shown = result["cells"]
    for i in range(nrows):
        hidden = [j for j in range(ncols) if shown[i][j] in (SMALL, SECONDARY)]
        if len(hidden) == 1 and result["row_totals"][i] not in (SMALL, SECONDARY):
            return True
    for j in range(ncols):
        hidden = [i for i in range(nrows) if shown[i][j] in (SMALL, SECONDARY)]
        if len(hidden) == 1 and result["col_totals"][j] not in (SMALL, SECONDARY):
            return True
    return False


@pytest.mark.parametrize("grid", [
    [[3, 10, 7], [8, 9, 12]],
    [[1, 0, 0], [0, 0, 20], [5, 6, 7]],
    [[4, 4, 30], [2, 50, 6], [9, 9, 9]],
    [[0, 0], [0, 0]],
    [[1]],
])
def test_no_hidden_cell_can_be_worked_out_from_a_row_or_column_total(grid):
    result = suppress_grid(grid)
    assert not _recoverable(grid, result)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            if 1 <= v <= 4:
                assert result["cells"][i][j] == SMALL


def test_the_grand_total_is_exact_when_it_cannot_reveal_a_small_cell():
    result = suppress_grid([[3, 10, 7], [8, 9, 12]])
    assert result["total"] == "49"


def test_exported_report_suppresses_counts_rates_that_depend_on_them_and_keeps_labels():
    report = Report("x", "X", ["Stage", "Cases", "Rate"], [["Received", 40, "100%"], ["Accepted", 3, "8%"]], (1,),
                    rates={2: (1, "first")})
    header, rows = report.exported()
    assert header == ["Stage", "Cases", "Rate"]
    assert rows[0] == ["Received", "40", "100%"]
    assert rows[1] == ["Accepted", SMALL, SECONDARY]


def test_a_rate_over_a_sum_of_rows_is_withheld_when_any_row_is_suppressed():
    report = Report("consent", "Consent", ["Answer", "People", "Rate"],
                    [["Gave", 20, "87%"], ["Declined", 3, "13%"]], (1,), guard_columns=(2,))
    _, rows = report.exported()
    assert [r[2] for r in rows] == [SECONDARY, SECONDARY]


def test_exported_report_with_a_total_row_protects_the_total():
    report = Report("m", "By month", ["Month", "Referrals"], [["Jan", 2], ["Feb", 10], ["Mar", 9]], (1,), total=True)
    _, rows = report.exported()
    assert rows == [["Jan", SMALL], ["Feb", "10"], ["Mar", SECONDARY], ["Total", "21"]]
