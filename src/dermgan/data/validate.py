"""Checking a manifest: every bad row reported at once (row, column, reason), then what the data holds.

Row checks need no image and scale to 100,000 rows in seconds; image checks decode every file in
worker processes, because only a full decode finds a truncated file.
"""

from __future__ import annotations

import csv
import difflib
import os
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from dermgan.conditions import parse_skin_type
from dermgan.data.images import ImageError, load_rgb
from dermgan.data.manifest import (
    REQUIRED_COLUMNS,
    SOURCES,
    SPLIT_VALUES,
    STANDARD_COLUMNS,
    ManifestTable,
    Record,
    is_outside,
    parse_boxes,
    read_manifest,
)
from dermgan.errors import UserError
from dermgan.files import atomic_write, write_json
from dermgan.parallel import parallel_map

BOX_TOLERANCE_PX = 1.0
MAX_BOX_PROBLEMS = 3
OUTSIDE_REASON = "lies outside the manifest's folder (an absolute or ../ path)"


class Problem(BaseModel):
    """One reason a row cannot be used."""

    row: int
    column: str
    reason: str
    image: str = ""


class ValidationReport(BaseModel):
    manifest: str
    n_rows: int
    n_usable: int
    usable: bool
    images_checked: bool
    problems: list[Problem]
    counts: dict[str, dict[str, int]]
    n_without_boxes: int
    n_cases: int
    splits: dict[str, int]
    conditions: list[str]
    warnings: list[str] = []


def _listed(rows: Sequence[int], shown: int = 10) -> str:
    more = f" and {len(rows) - shown} more" if len(rows) > shown else ""
    return ", ".join(map(str, rows[:shown])) + more


def _control_character(text: str) -> str | None:
    return next((c for c in text if unicodedata.category(c) == "Cc"), None)


class _RowChecker:
    """Checks one row at a time, remembering what duplicates and case splits need."""

    def __init__(self, vocabulary: Sequence[str] | None, strict_paths: bool = False):
        self.vocabulary = set(vocabulary) if vocabulary else None
        self.vocabulary_list = sorted(self.vocabulary or ())
        self.strict_paths = strict_paths
        self.first_row_of_image: dict[str, int] = {}
        self.split_of_case: dict[str, tuple[str, int]] = {}
        self.outside_rows: list[int] = []

    def check(self, number: int, row: dict[str, str]) -> tuple[Record | None, list[Problem]]:
        problems: list[Problem] = []
        image = (row.get("image") or "").strip()

        def problem(column: str, reason: str) -> None:
            problems.append(Problem(row=number, column=column, reason=reason, image=image))

        if "\0extra" in row:
            problem("*", "has more fields than the header (an unquoted comma?)")
        for column, value in row.items():
            if column != "\0extra" and "\0" in value:
                problem(column, "contains a NUL byte (a binary file, or a broken export?)")
        if not image:
            problem("image", "is empty")
        elif is_outside(image):
            if self.strict_paths:
                problem("image", f"{OUTSIDE_REASON}; move the image inside, or drop --strict-paths")
            else:
                self.outside_rows.append(number)
        if image:
            key = os.path.normpath(image)
            if key in self.first_row_of_image:
                problem("image", f"duplicates row {self.first_row_of_image[key]}")
            else:
                self.first_row_of_image[key] = number
        condition = (row.get("condition") or "").strip()
        control = _control_character(condition)
        if not condition:
            problem("condition", "is empty")
        elif control is not None and control != "\0":
            problem("condition", f"{condition!r} contains the control character U+{ord(control):04X}")
        elif self.vocabulary is not None and condition not in self.vocabulary:
            close = difflib.get_close_matches(condition, self.vocabulary_list, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problem("condition", f"{condition!r} is not in the vocabulary given with --conditions{hint}")
        try:
            skin_type = parse_skin_type(row.get("skin_type", ""))
        except UserError as error:
            problem("skin_type", str(error))
            skin_type = ""
        boxes = self._boxes(row.get("boxes", ""), problem)
        split = (row.get("split") or "").strip()
        if split and split not in SPLIT_VALUES:
            problem("split", f"{split!r} is not one of {', '.join(SPLIT_VALUES)} (or empty)")
        source = (row.get("source") or "").strip() or "real"
        if source not in SOURCES:
            problem("source", f"{source!r} is not one of {', '.join(SOURCES)}")
        case_id = (row.get("case_id") or "").strip() or image
        if split:
            earlier = self.split_of_case.setdefault(case_id, (split, number))
            if earlier[0] != split:
                problem(
                    "split",
                    f"case {case_id!r} is in {split!r} here but in {earlier[0]!r} on row {earlier[1]}",
                )
        if problems:
            return None, problems
        extra = {k: v for k, v in row.items() if k not in STANDARD_COLUMNS and k != "\0extra"}
        record = Record(number, image, condition, skin_type, boxes, case_id, split, source, extra)
        return record, problems

    @staticmethod
    def _boxes(text: str, problem) -> tuple:
        try:
            boxes = parse_boxes(text)
        except ValueError as error:
            problem("boxes", str(error))
            return ()
        for index, (x0, y0, x1, y1) in enumerate(boxes, start=1):
            if x1 <= x0 or y1 <= y0:
                problem("boxes", f"box {index} {list(boxes[index - 1])} is inverted or has zero area")
            elif min(x0, y0) < -BOX_TOLERANCE_PX:
                problem("boxes", f"box {index} {list(boxes[index - 1])} lies outside the image")
        return boxes


def check_rows(
    table: ManifestTable, vocabulary: Sequence[str] | None = None, strict_paths: bool = False
) -> tuple[list[Record], list[Problem], list[str]]:
    """Row-level checks (no image opened): records, problems and warnings. UserError when the manifest
    as a whole is unusable. Image paths outside the manifest's folder are a warning, or with
    `strict_paths` a problem of each such row."""
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise UserError(
            f"{table.path}: missing required column(s) {', '.join(missing)}; "
            f"the header has {', '.join(table.columns) or 'nothing'}"
        )
    if not table.rows:
        raise UserError(f"{table.path}: the manifest has a header but no rows")
    checker = _RowChecker(vocabulary, strict_paths)
    records, problems = [], []
    for number, row in enumerate(table.rows, start=1):
        record, row_problems = checker.check(number, row)
        problems.extend(row_problems)
        if record is not None:
            records.append(record)
    warnings = []
    if checker.outside_rows:
        warnings.append(
            f"{len(checker.outside_rows)} image path(s) lie {OUTSIDE_REASON.removeprefix('lies ')}: rows "
            f"{_listed(checker.outside_rows)}; they are read from there (--strict-paths refuses them)"
        )
    return records, problems, warnings


def image_size_or_reason(path: Path) -> tuple[int, int] | str:
    """The displayed (width, height) of a photo, or why it cannot be used. Runs in worker processes."""
    try:
        image = load_rgb(path)
    except ImageError as error:
        return str(error)
    return image.size


def boxes_outside(record: Record, width: int, height: int) -> list[Problem]:
    """A problem for each box beyond the image (the first few, then how many more: a photo may have
    thousands of boxes)."""
    outside = [
        (index, box)
        for index, box in enumerate(record.boxes, start=1)
        if box[2] > width + BOX_TOLERANCE_PX or box[3] > height + BOX_TOLERANCE_PX
    ]
    problems = [
        Problem(
            row=record.row,
            column="boxes",
            reason=f"box {index} {list(box)} lies outside the {width}x{height} image",
            image=record.image,
        )
        for index, box in outside[:MAX_BOX_PROBLEMS]
    ]
    if len(outside) > MAX_BOX_PROBLEMS:
        problems.append(
            Problem(
                row=record.row,
                column="boxes",
                reason=f"{len(outside) - MAX_BOX_PROBLEMS:,} more boxes lie outside the {width}x{height} "
                "image",
                image=record.image,
            )
        )
    return problems


def check_images(
    records: Sequence[Record], base_dir: Path, workers: int | None = None, progress: bool = True
) -> list[Problem]:
    """Decodes every image (in parallel) and checks the boxes against its displayed size."""
    paths = [record.resolve(base_dir) for record in records]
    problems = []
    results = parallel_map(
        image_size_or_reason, paths, workers=workers, desc="checking images", progress=progress
    )
    for record, result in zip(records, results, strict=True):
        if isinstance(result, str):
            problems.append(Problem(row=record.row, column="image", reason=result, image=record.image))
        else:
            problems.extend(boxes_outside(record, *result))
    return problems


def summarise(records: Iterable[Record]) -> dict:
    """Images per condition x skin type, images without boxes, cases and splits."""
    counts: dict[str, Counter] = defaultdict(Counter)
    splits: Counter = Counter()
    cases = set()
    without_boxes = 0
    for record in records:
        counts[record.condition][record.skin_type or "unknown"] += 1
        splits[record.split or "unassigned"] += 1
        cases.add(record.case_id)
        without_boxes += not record.boxes
    return {
        "counts": {condition: dict(sorted(c.items())) for condition, c in sorted(counts.items())},
        "n_without_boxes": without_boxes,
        "n_cases": len(cases),
        "splits": dict(sorted(splits.items())),
        "conditions": sorted(counts),
    }


def validate_manifest(
    manifest: str | os.PathLike[str],
    *,
    check_image_files: bool = True,
    conditions: Sequence[str] | None = None,
    skip_bad: bool = False,
    strict_paths: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[ValidationReport, list[Record]]:
    """Every problem of a manifest, its summary, and the records that are usable.

    Usable means no problem at all, or with `skip_bad` at least one good row left. `strict_paths` makes an
    image path outside the manifest's folder a problem of its row instead of a warning.
    """
    table = read_manifest(manifest)
    records, problems, warnings = check_rows(table, conditions, strict_paths)
    if check_image_files and records:
        image_problems = check_images(records, table.base_dir, workers=workers, progress=progress)
        problems.extend(image_problems)
        bad_rows = {problem.row for problem in image_problems}
        records = [record for record in records if record.row not in bad_rows]
    problems.sort(key=lambda problem: problem.row)
    usable = bool(records) and (skip_bad or not problems)
    unused = sorted(set(conditions or ()) - {record.condition for record in records})
    if unused:
        warnings.append(f"no usable row has the condition(s) {', '.join(map(repr, unused))} of --conditions")
    report = ValidationReport(
        manifest=str(table.path),
        n_rows=len(table.rows),
        n_usable=len(records),
        usable=usable,
        images_checked=check_image_files,
        problems=problems,
        warnings=warnings,
        **summarise(records),
    )
    return report, records


def load_records(
    manifest: str | os.PathLike[str],
    *,
    check_image_files: bool = True,
    skip_bad: bool = False,
    strict_paths: bool = False,
    workers: int | None = None,
    progress: bool = True,
) -> tuple[ValidationReport, list[Record]]:
    """The usable records of a manifest for a later stage; UserError listing the problems otherwise."""
    report, records = validate_manifest(
        manifest,
        check_image_files=check_image_files,
        skip_bad=skip_bad,
        strict_paths=strict_paths,
        workers=workers,
        progress=progress,
    )
    if not report.usable:
        shown = "\n".join(f"  row {p.row}, {p.column}: {p.reason}" for p in report.problems[:20])
        more = f"\n  ... and {len(report.problems) - 20} more" if len(report.problems) > 20 else ""
        raise UserError(
            f"{manifest} has {len(report.problems)} problem(s):\n{shown}{more}\n"
            "Fix them (see `dermgan data validate`), or pass --skip-bad to leave those rows out."
        )
    return report, records


def write_validation(report: ValidationReport, out: str | os.PathLike[str], *, skip_bad: bool) -> list[Path]:
    """OUT/validate.json, and with --skip-bad OUT/skipped.csv (row, image, column, reason)."""
    out = Path(out)
    written = [out / "validate.json"]
    write_json(written[0], report.model_dump(mode="json"))
    if skip_bad:

        def write(handle):
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(["row", "image", "column", "reason"])
            writer.writerows([p.row, p.image, p.column, p.reason] for p in report.problems)

        written.append(out / "skipped.csv")
        atomic_write(written[1], write)
    return written
