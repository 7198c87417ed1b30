"""The human-readable results: the same rows as a terminal table and as markdown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table

if TYPE_CHECKING:  # compare.py writes its markdown through this module
    from dermgan.classification.compare import CompareResult
    from dermgan.classification.evaluate import EvalResult

Rows = tuple[list[str], list[list[str]]]


def class_rows(result: EvalResult) -> Rows:
    headers = ["condition", "support", "precision", "recall", "F1"]
    rows = [
        [c.condition, str(c.support), c.precision.text(), c.recall.text(), c.f1.text()]
        for c in result.per_class
    ]
    return headers, rows


def eval_skin_rows(result: EvalResult) -> Rows:
    return ["skin type", "images", "top-1"], [
        [s.skin_type, str(s.n), s.top1.text()] for s in result.per_skin_type
    ]


def compare_class_rows(result: CompareResult) -> Rows:
    headers = ["condition", "support", "F1 baseline", "F1 augmented", "difference"]
    rows = [
        [c.condition, str(c.support), c.f1.baseline.text(), c.f1.augmented.text(), c.f1.difference.text()]
        for c in result.per_class
    ]
    return headers, rows


def compare_skin_rows(result: CompareResult) -> Rows:
    headers = ["skin type", "images", "top-1 baseline", "top-1 augmented", "difference", "McNemar p"]
    rows = [
        [
            s.skin_type,
            str(s.n),
            s.top1.baseline.text(),
            s.top1.augmented.text(),
            s.top1.difference.text(),
            f"{s.mcnemar_exact_p:.3g}",
        ]
        for s in result.per_skin_type
    ]
    return headers, rows


def compare_summary(result: CompareResult) -> list[str]:
    """Top-1 of both runs and the paired tests, as sentences."""
    t = result.paired_t
    t_text = f"t = {t.t:.3f}, p = {t.p:.3g}" if t.t is not None else f"p = {t.p} ({t.note})"
    m = result.mcnemar
    return [
        f"{result.n_images} {result.split} images; top-1 baseline {result.top1.baseline.text()}, "
        f"augmented {result.top1.augmented.text()}, difference {result.top1.difference.text()} "
        "(95% bootstrap intervals)",
        f"McNemar: {m.only_first_right} images right only for the baseline, {m.only_second_right} only "
        f"for the augmented run; exact p = {m.exact_p:.3g}, chi-square {m.chi2:.3f} (p = {m.chi2_p:.3g}). "
        f"Paired t-test on correctness: {t_text}.",
    ]


def rich_table(title: str, rows: Rows) -> Table:
    table = Table(title=title, title_justify="left")
    headers, body = rows
    for index, header in enumerate(headers):
        table.add_column(header, justify="left" if index == 0 else "right")
    for row in body:
        table.add_row(*row)
    return table


def markdown_table(rows: Rows) -> str:
    headers, body = rows

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    return "\n".join([line(headers), line(["---"] * len(headers)), *map(line, body)]) + "\n"


def compare_markdown(result: CompareResult) -> str:
    return (
        f"# Baseline vs augmented classifier\n\nBaseline: `{result.baseline}` ({result.n_synthetic_baseline} "
        f"synthetic training images). Augmented: `{result.augmented}` ({result.n_synthetic_augmented}).\n\n"
        + "\n\n".join(compare_summary(result))
        + "\n\n## F1 per condition\n\n"
        + markdown_table(compare_class_rows(result))
        + "\n## Top-1 per skin type\n\n"
        + markdown_table(compare_skin_rows(result))
        + f"\n![F1 per condition]({result.plot.rsplit('/', 1)[-1]})\n"
    )
