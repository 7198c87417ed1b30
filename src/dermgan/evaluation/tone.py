"""Skin-tone fidelity: does each image show the Fitzpatrick skin type its row asks for?

An image's Individual Typology Angle (ITA) comes from its healthy skin: the skin-coloured pixels outside
the ROI boxes, converted to CIELAB (D65) by scikit-image and reduced to their median L* and median b*
(`estimate_ita`), so hair, pores, specular spots and the lesion itself do not move it.

Per requested type, and for each set: band accuracy (the share of images whose ITA lies in the requested
type's band; a range such as 1-2 counts when it lies in any of its types' bands; an image with no skin
pixel counts as a miss), the ITA error against a real reference, the ITA distribution, and the Spearman
correlation between requested type and ITA. Band accuracy and ITA error come first because a rank
correlation cannot tell a trained generator from an untrained one: the map's tone channel shifts even a
random network's colour monotonically.

The real reference (ITA error) of a synthetic image of DATA2: `generate` draws a validation crop's map,
moves its boxes and may ask for another skin type, and names the crop's case and photo in
`map_source_case` and `map_source_image`. The image is paired with DATA's crops of that case and photo
(any split: the maps come from validation crops) that carry the skin type it asks for; its error is the
distance from their median ITA. A map asked for another type than its photo shows has no reference.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image
from pydantic import BaseModel
from rich.table import Table
from scipy.stats import spearmanr
from tqdm import tqdm

from dermgan.conditions import (
    ITA_BANDS,
    ROMAN,
    fitzpatrick_from_ita,
    parse_skin_type,
    skin_type_bounds,
    skin_type_sort_key,
)
from dermgan.data.skin import estimate_ita
from dermgan.evaluation.image_sets import ImageSet, load_image_set
from dermgan.evaluation.roi import image_and_roi, load_evaluation_sets, set_labels
from dermgan.files import save_png, write_json

TONE_NOTE = (
    "Band accuracy and ITA error come first: a rank correlation between requested type and ITA cannot tell "
    "a trained generator from an untrained one (the map's tone channel shifts even a random network's "
    "colour monotonically)."
)
PAIRING = (
    "ITA error: |ITA - median ITA of the first set's crops of the same case and photo as the map "
    "(map_source_case, map_source_image), in the requested skin type|"
)
UNKNOWN = "unknown"
ALL_TYPES = "all"
SET_COLOURS = ("#4c72b0", "#dd8452")


def band_limits(skin_type: str) -> tuple[float, float] | None:
    """The ITA band (lower, upper] of a type or range (the union of its types' bands); None for unknown."""
    bounds = skin_type_bounds(skin_type)
    if bounds is None:
        return None
    lightest, darkest = bounds
    return ITA_BANDS[darkest][0], ITA_BANDS[lightest][1]


@dataclass(frozen=True)
class ImageTone:
    """One image: the skin type it asks for ("" = unknown), its ITA and its real reference's ITA."""

    skin_type: str
    ita: float | None
    reference_ita: float | None

    @property
    def in_band(self) -> bool | None:
        """None for an unknown type; False when the image shows no skin."""
        bounds = skin_type_bounds(self.skin_type)
        if bounds is None:
            return None
        return self.ita is not None and bounds[0] <= fitzpatrick_from_ita(self.ita) <= bounds[1]

    @property
    def error(self) -> float | None:
        if self.ita is None or self.reference_ita is None:
            return None
        return abs(self.ita - self.reference_ita)


class ItaDistribution(BaseModel):
    n: int
    mean: float
    std: float
    q1: float
    median: float
    q3: float

    @classmethod
    def of(cls, values: Sequence[float]) -> ItaDistribution | None:
        if not values:
            return None
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        return cls(
            n=len(values),
            mean=float(np.mean(values)),
            std=float(np.std(values, ddof=1)) if len(values) > 1 else 0.0,
            q1=float(q1),
            median=float(median),
            q3=float(q3),
        )


class ToneGroup(BaseModel):
    """The images that ask for one skin type (or all of them)."""

    skin_type: str
    band: tuple[float, float] | None
    n_images: int
    n_without_skin: int
    band_accuracy: float | None
    """Share of the images of a known requested type whose ITA lies in its band."""
    ita_error: float | None
    """Mean |ITA - reference ITA| in degrees over the paired images."""
    n_paired: int
    ita: ItaDistribution | None
    """None for all types together: a mixture of bands says nothing."""


class RankCorrelation(BaseModel):
    """Spearman's rho between requested type (a range at its midpoint) and ITA; negative is the expected
    direction (darker types, lower ITA)."""

    rho: float
    p_value: float
    n: int


class ToneSet(BaseModel):
    name: str
    label: str
    overall: ToneGroup
    by_skin_type: list[ToneGroup]
    spearman: RankCorrelation | None


class ToneReport(BaseModel):
    note: str = TONE_NOTE
    pairing: str = PAIRING
    sets: list[ToneSet]
    plot: str


def requested_skin_types(image_set: ImageSet) -> list[str]:
    """Each image's canonical skin type ("" = unknown, also for a folder without a manifest)."""
    if not image_set.rows:
        return [""] * len(image_set)
    return [parse_skin_type(row.get("skin_type", "")) for row in image_set.rows]


def set_itas(image_set: ImageSet, description: str, progress: bool = True) -> list[float | None]:
    """Each image's healthy-skin ITA (None when no skin pixel lies outside its boxes)."""
    indices = tqdm(range(len(image_set)), desc=description, unit="image", leave=False, disable=not progress)
    itas = []
    for index in indices:
        rgb, roi = image_and_roi(image_set, index)
        itas.append(estimate_ita(rgb, exclude=roi))
    return itas


def reference_itas(compared: ImageSet, reference: ImageSet, progress: bool = True) -> list[float | None]:
    """Per image of `compared`, the median ITA of `reference`'s crops of its map's case and photo in the
    skin type it asks for; None where there is none (see the module docstring)."""
    if not compared.rows or not reference.rows or "map_source_case" not in compared.rows[0]:
        return [None] * len(compared)
    crops: dict[tuple[str, str, str], list[int]] = {}
    for index, (row, skin_type) in enumerate(
        zip(reference.rows, requested_skin_types(reference), strict=True)
    ):
        crops.setdefault((row.get("case_id", ""), row.get("source_image", ""), skin_type), []).append(index)
    wanted = [
        crops.get((row["map_source_case"], row.get("map_source_image", ""), skin_type), [])
        if row["map_source_case"]
        else []
        for row, skin_type in zip(compared.rows, requested_skin_types(compared), strict=True)
    ]
    needed = sorted({index for indices in wanted for index in indices})
    itas = dict(zip(needed, set_itas(reference.subset(needed), "tone references", progress), strict=True))
    medians = []
    for indices in wanted:
        found = [itas[index] for index in indices if itas[index] is not None]
        medians.append(float(np.median(found)) if found else None)
    return medians


def summarise_tone(skin_type: str, tones: Sequence[ImageTone]) -> ToneGroup:
    """The group of one requested type; ALL_TYPES summarises every image, with no band or distribution."""
    one_type = skin_type != ALL_TYPES
    in_band = [tone.in_band for tone in tones if tone.in_band is not None]
    errors = [tone.error for tone in tones if tone.error is not None]
    return ToneGroup(
        skin_type=skin_type or UNKNOWN,
        band=band_limits(skin_type) if one_type else None,
        n_images=len(tones),
        n_without_skin=sum(tone.ita is None for tone in tones),
        band_accuracy=float(np.mean(in_band)) if in_band else None,
        ita_error=float(np.mean(errors)) if errors else None,
        n_paired=len(errors),
        ita=ItaDistribution.of([tone.ita for tone in tones if tone.ita is not None]) if one_type else None,
    )


def rank_correlation(tones: Sequence[ImageTone]) -> RankCorrelation | None:
    """Spearman's rho of requested type against ITA; None when either side does not vary."""
    pairs = [
        (sum(skin_type_bounds(tone.skin_type)) / 2, tone.ita)
        for tone in tones
        if tone.skin_type and tone.ita is not None
    ]
    if len({pair[0] for pair in pairs}) < 2 or len({pair[1] for pair in pairs}) < 2:
        return None
    result = spearmanr([pair[0] for pair in pairs], [pair[1] for pair in pairs])
    return RankCorrelation(rho=float(result.statistic), p_value=float(result.pvalue), n=len(pairs))


def summarise_set(image_set: ImageSet, label: str, tones: Sequence[ImageTone]) -> ToneSet:
    by_type: dict[str, list[ImageTone]] = {}
    for tone in tones:
        by_type.setdefault(tone.skin_type, []).append(tone)
    return ToneSet(
        name=image_set.name,
        label=label,
        overall=summarise_tone(ALL_TYPES, tones),
        by_skin_type=[summarise_tone(t, by_type[t]) for t in sorted(by_type, key=skin_type_sort_key)],
        spearman=rank_correlation(tones),
    )


def evaluate_tone(
    data: str | os.PathLike[str],
    data2: str | os.PathLike[str] | None = None,
    *,
    out: str | os.PathLike[str],
    split: str | None = None,
    progress: bool = True,
) -> ToneReport:
    """Skin-tone fidelity of one set, or of two side by side (DATA2's images paired with DATA's crops);
    writes OUT/tone.json and OUT/tone.png."""
    image_sets = load_evaluation_sets([source for source in (data, data2) if source is not None], split)
    references = [[None] * len(image_sets[0])]
    if data2 is not None:
        references.append(reference_itas(image_sets[1], load_image_set(data), progress))
    labelled_tones = []
    for image_set, label, reference in zip(image_sets, set_labels(image_sets), references, strict=True):
        itas = set_itas(image_set, f"tone {label}", progress)
        skin_types = requested_skin_types(image_set)
        labelled_tones.append(
            (label, [ImageTone(*values) for values in zip(skin_types, itas, reference, strict=True)])
        )
    report = ToneReport(
        sets=[
            summarise_set(image_set, label, tones)
            for image_set, (label, tones) in zip(image_sets, labelled_tones, strict=True)
        ],
        plot=str(plot_tone(labelled_tones, Path(out) / "tone.png")),
    )
    write_json(Path(out) / "tone.json", report.model_dump(mode="json"))
    return report


def skin_type_label(skin_type: str) -> str:
    """ "1-2" -> "I-II"; unknown stays unknown."""
    bounds = skin_type_bounds("" if skin_type == UNKNOWN else skin_type)
    if bounds is None:
        return UNKNOWN
    return ROMAN[bounds[0]] if bounds[0] == bounds[1] else f"{ROMAN[bounds[0]]}-{ROMAN[bounds[1]]}"


def plot_tone(labelled_tones: Sequence[tuple[str, Sequence[ImageTone]]], path: Path) -> Path:
    """ITA per requested type: a box and its points per set, over the requested type's band (shaded)."""
    skin_types = sorted(
        {tone.skin_type for _, tones in labelled_tones for tone in tones}, key=skin_type_sort_key
    )
    width = 0.8 / len(labelled_tones)
    figure = Figure(
        figsize=(2.0 + 0.6 * len(skin_types) * len(labelled_tones), 4.8), dpi=100, facecolor="white"
    )
    axes = figure.add_subplot()
    for position, skin_type in enumerate(skin_types):
        limits = band_limits(skin_type)
        if limits is not None:
            axes.fill_between([position - 0.45, position + 0.45], *limits, color="#2ca02c", alpha=0.15, lw=0)
    jitter = np.random.default_rng(0)
    shown: list[float] = []
    for number, (label, tones) in enumerate(labelled_tones):
        colour = SET_COLOURS[number % len(SET_COLOURS)]
        offset = (number - (len(labelled_tones) - 1) / 2) * width
        for position, skin_type in enumerate(skin_types):
            values = [tone.ita for tone in tones if tone.skin_type == skin_type and tone.ita is not None]
            if values:
                _draw_box_and_points(axes, values, position + offset, width, colour, jitter)
                shown += values
        axes.scatter([], [], color=colour, label=label)
    _draw_band_limits(axes, min([0.0, *shown]) - 5, max([60.0, *shown]) + 5)
    axes.set_xticks(range(len(skin_types)), [skin_type_label(skin_type) for skin_type in skin_types])
    axes.set_xlim(-0.6, len(skin_types) - 0.4)
    axes.set_xlabel("requested Fitzpatrick type")
    axes.set_ylabel("ITA of healthy skin (degrees)")
    axes.set_title("Skin tone per requested type (shaded: its ITA band; right: the bands)", fontsize=10)
    axes.legend(loc="lower left", fontsize=9)
    figure.tight_layout()
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    save_png(Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]), path)
    return path


def _draw_box_and_points(
    axes, values: list[float], x: float, width: float, colour: str, jitter: np.random.Generator
) -> None:
    axes.boxplot(
        [values],
        positions=[x],
        widths=0.8 * width,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": colour, "alpha": 0.25, "edgecolor": colour},
        medianprops={"color": colour, "linewidth": 2},
        whiskerprops={"color": colour},
        capprops={"color": colour},
    )
    spread = jitter.uniform(-0.25 * width, 0.25 * width, len(values))
    axes.scatter(x + spread, values, s=9, color=colour, alpha=0.7, zorder=3)


def _draw_band_limits(axes, low: float, high: float) -> None:
    """Dotted lines between the Fitzpatrick bands, each band named at the right edge, within low..high."""
    axes.set_ylim(low, high)
    for skin_type, (lower, upper) in ITA_BANDS.items():
        if skin_type != 6:
            axes.axhline(lower, color="grey", linewidth=0.6, linestyle=":")
        middle = (max(lower, low) + min(upper, high)) / 2
        axes.text(
            1.01, middle, ROMAN[skin_type], transform=axes.get_yaxis_transform(), va="center", fontsize=9
        )


def _cell(value: float | None, count: int, form: str) -> str:
    return "-" if value is None else f"{value:{form}} ({count})"


def tone_table(report: ToneReport) -> Table:
    """Rows = requested types (then all); per set: band accuracy, ITA error, ITA mean +- sd, with counts."""
    table = Table(title="skin tone per requested Fitzpatrick type (ITA in degrees)", title_justify="left")
    table.add_column("type")
    table.add_column("ITA band", justify="right")
    for tone_set in report.sets:
        for heading in ("in band (n)", "ITA error (n)", "ITA mean+-sd"):
            table.add_column(f"{tone_set.label}\n{heading}", justify="right")
    bands = {group.skin_type: group.band for tone_set in report.sets for group in tone_set.by_skin_type}
    order = sorted(bands, key=lambda skin_type: skin_type_sort_key("" if skin_type == UNKNOWN else skin_type))
    for skin_type in [*order, ALL_TYPES]:
        band = bands.get(skin_type)
        cells = [
            ALL_TYPES if skin_type == ALL_TYPES else skin_type_label(skin_type),
            "-" if band is None else f"({band[0]:g}, {band[1]:g}]",
        ]
        for tone_set in report.sets:
            groups = {group.skin_type: group for group in tone_set.by_skin_type} | {
                ALL_TYPES: tone_set.overall
            }
            group = groups.get(skin_type)
            if group is None:
                cells += ["-", "-", "-"]
                continue
            cells += [
                _cell(group.band_accuracy, group.n_images, ".0%"),
                _cell(group.ita_error, group.n_paired, ".1f"),
                "-" if group.ita is None else f"{group.ita.mean:.1f}+-{group.ita.std:.1f}",
            ]
        table.add_row(*cells, style="bold" if skin_type == ALL_TYPES else None)
    return table


def tone_summary(report: ToneReport) -> list[str]:
    """The lines under the table: images without skin, pairing counts, and the rank correlation last."""
    lines = []
    for tone_set in report.sets:
        overall = tone_set.overall
        if overall.n_without_skin:
            lines.append(
                f"{tone_set.label}: {overall.n_without_skin} of {overall.n_images} images show no skin "
                "outside their boxes (counted as out of band)"
            )
    for tone_set in report.sets[1:]:
        lines.append(
            f"{tone_set.label}: {tone_set.overall.n_paired} of {tone_set.overall.n_images} images paired "
            f"with {report.sets[0].label} crops of their map's photo in the requested type (ITA error)"
        )
    if len(report.sets) == 1:
        lines.append(
            "ITA error needs a real reference: `dermgan eval tone PREPARED GENERATED` pairs generated images "
            "with the prepared crops their maps came from"
        )
    correlations = [
        f"{tone_set.label} {tone_set.spearman.rho:+.2f} (n {tone_set.spearman.n})"
        for tone_set in report.sets
        if tone_set.spearman is not None
    ]
    if correlations:
        lines.append(
            f"Spearman rho(requested type, ITA): {', '.join(correlations)}; negative is the expected "
            "direction, and alone it cannot tell a trained generator from an untrained one"
        )
    return lines
