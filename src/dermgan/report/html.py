"""`dermgan report`: one self-contained HTML page from the stages' JSON and PNG outputs alone.

The page runs nothing: it reads what the stages wrote under the demo's folder (see demo/layout.py), so it
can be rebuilt at any time, and a stage that was not run leaves its section saying so. Figures are
embedded as data URIs, so the page can be mailed or archived as one file.
"""

from __future__ import annotations

import base64
import datetime
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from jinja2 import Environment, PackageLoader, select_autoescape

from dermgan.data.manifest import read_manifest
from dermgan.data.phantom.dataset import names_phantom
from dermgan.demo.figures import tone_sweep_maps
from dermgan.demo.layout import DEMO_SETTINGS_FILE, FID_GROUPS, DemoLayout
from dermgan.errors import UserError
from dermgan.evaluation.ablation import ABLATED_ROWS, ABLATIONS, SHORT_LABELS
from dermgan.evaluation.fid import MIN_IMAGES_FOR_FID
from dermgan.files import write_text
from dermgan.report.cells import Cell, JsonFile, escape_key
from dermgan.report.curves import fidelity_curve_png, training_curves_png


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    note: str = ""


@dataclass
class Picture:
    caption: str
    source: str
    """Path relative to the report's folder."""
    data_uri: str


@dataclass
class Section:
    anchor: str
    title: str
    text: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    code: list[tuple[str, str]] = field(default_factory=list)
    """(caption, text) blocks shown verbatim."""
    missing: str = ""
    """Why the section is empty: the stage that makes it has not run."""


class Page:
    """Collects sections; pictures are read from disk and embedded once."""

    def __init__(self, root: Path):
        self.root = root
        self.sections: list[Section] = []

    def picture(self, relative: Path | str, caption: str) -> Picture | None:
        path = self.root / relative
        return self.embed(path.read_bytes(), caption, str(relative)) if path.is_file() else None

    @staticmethod
    def embed(png: bytes, caption: str, source: str) -> Picture:
        """A PNG drawn by the report itself, embedded; `source` names the file it was drawn from."""
        return Picture(caption, source, f"data:image/png;base64,{base64.b64encode(png).decode('ascii')}")

    def json(self, relative: Path | str) -> JsonFile:
        return JsonFile(self.root, str(relative))

    def add(self, section: Section, *pictures: Picture | None) -> None:
        section.pictures += [picture for picture in pictures if picture is not None]
        self.sections.append(section)


def _counts_table(source: JsonFile, title: str) -> Table:
    """Condition x skin type counts (validate.json or prepare.json), every cell pointing at its number."""
    counts = source.get("/counts")
    types = sorted({t for row in counts.values() for t in row})
    rows = [
        [Cell(condition)]
        + [
            source.cell(f"/counts/{escape_key(condition)}/{t}", "d") if t in row else Cell("0", form="d")
            for t in types
        ]
        for condition, row in counts.items()
    ]
    return Table(title, ["condition", *(f"type {t}" for t in types)], rows)


def is_phantom(layout: DemoLayout) -> bool:
    """Whether the photos are the built-in phantom's (its manifest's `dataset` column says so)."""
    manifest = layout.photos / "manifest.csv"
    return manifest.is_file() and names_phantom(
        row.get("dataset", "") for row in read_manifest(manifest).rows
    )


def _data(page: Page, layout: DemoLayout, phantom: bool) -> None:
    validation = page.json(layout.photos.relative_to(layout.out) / "validate.json")
    prepared = page.json(layout.prepared.relative_to(layout.out) / "prepare.json")
    section = Section("data", "The data")
    if not validation or not prepared:
        section.missing = "The data stage has not run."
        page.add(section)
        return
    if phantom:
        section.text.append(
            "The phantom dataset is drawn by dermgan itself: skin of each Fitzpatrick type and eight "
            "conditions with tone-aware shapes and colours. It is synthetic, so that every stage can run "
            "without real photos; nothing clinical follows from it. Melanoma and types V-VI are rare in it, "
            "as in real data."
        )
    splits = [
        [Cell(split), prepared.cell(f"/crops_per_split/{split}", "d")]
        for split in prepared.get("/crops_per_split")
    ]
    section.tables += [
        _counts_table(validation, "Photos per condition and skin type"),
        _counts_table(prepared, "Crops per condition and skin type (after data prepare)"),
        Table("Crops per split (split by case)", ["split", "crops"], splits),
    ]
    page.add(section, page.picture("figures/prepared.png", "Prepared pairs: image | semantic map | boxes."))


def _fidelity_curve(page: Page, layout: DemoLayout) -> Picture | None:
    """KID against the step of DermGAN and of each ablation trained, when their runs logged it."""
    runs = {"dermgan": layout.run, **{name: layout.ablation_runs / name for name in ABLATED_ROWS}}
    files = {SHORT_LABELS[name]: run / "metrics.jsonl" for name, run in runs.items()}
    png = fidelity_curve_png(files)
    if png is None:
        return None
    caption = "The fidelity curve: KID of the test twins at points of each run (shaded: +/- std over halves)."
    named = ", ".join(str(path.relative_to(layout.out)) for path in files.values() if path.is_file())
    return page.embed(png, caption, named)


def _training(page: Page, layout: DemoLayout) -> None:
    section = Section("training", "Training")
    metrics = layout.run / "metrics.jsonl"
    curves = training_curves_png(metrics) if metrics.is_file() else None
    if curves is None:
        section.missing = "No training run yet."
        page.add(section)
        return
    samples = sorted((layout.run / "samples").glob("step-*.png"))
    config = layout.run / "config.yaml"
    if config.is_file():
        section.code.append(("The resolved config (run/config.yaml)", config.read_text()))
    page.add(
        section,
        page.embed(
            curves,
            "Losses over training (faint: logged; bold: moving average).",
            str(metrics.relative_to(layout.out)),
        ),
        _fidelity_curve(page, layout),
        page.picture(
            samples[-1].relative_to(layout.out),
            "The last sample grid: validation maps, generated images, real images.",
        )
        if samples
        else None,
    )


def _generation(page: Page, layout: DemoLayout) -> None:
    section = Section("generation", "Synthetic images")
    figures = [
        (
            "generated.png",
            "Images from the paper's map sampler (validation maps, boxes shifted): image | map.",
        ),
        (
            "real-vs-generated.png",
            "Fig. 4: per condition, generated images over the real crops whose maps made them.",
        ),
        ("tone-sweep.png", "Fig. 5: the same maps on Fitzpatrick types I to VI."),
        ("size-sweep.png", "Fig. 6: one box grown from 1/8 to 7/8 of the image side."),
    ]
    pictures = [page.picture(Path("figures") / name, caption) for name, caption in figures]
    if not any(pictures):
        section.missing = "The generation stage has not run."
    page.add(section, *pictures)


def _ablation(page: Page, layout: DemoLayout) -> None:
    table = page.json(layout.table.relative_to(layout.out) / "ablation.json")
    section = Section("table1", "Table 1: DermGAN, its ablations and the real floor")
    if not table:
        section.missing = "The Table 1 stage has not run."
        page.add(section)
        return
    if table.get("/phantom"):
        section.text.append(
            "These are phantom numbers: drawn images and small CPU models. They compare the rows with each "
            "other; they are not comparable with the paper's, which come from 24,000 real test images."
        )
    section.text.append(
        f"FID of {table.get('/n_test')} real test crops against the test maps rendered by each model "
        f"({table.get('/trials')} trials of {table.get('/sample_size')} images, mean +/- 1.96 std); the "
        f"real floor compares {table.get('/n_floor_train')} real train crops with the same test crops."
    )
    seeds = table.data.get("seeds") or []  # absent from tables made before seeds
    seed_keys = [("fid_seed_mean", ".1f"), ("fid_seed_ci95", ".1f")] if len(seeds) >= 2 else []
    if seed_keys:
        section.text.append(
            f"Every row was trained with {len(seeds)} seeds (train.seed {', '.join(map(str, seeds))}): "
            f"'our FID' is the first seed's model with the per-trial interval; 'over seeds' is the "
            f"{table.get('/seed_interval')}."
        )
    rows = []
    for index, row in enumerate(table.get("/rows")):
        at = f"/rows/{index}"
        paper = [table.cell(f"{at}/paper_fid", ".1f"), table.cell(f"{at}/paper_fid_ci95", ".1f")]
        if not row["evaluated"]:
            not_run = (Cell("not run (--ablations)") for _ in range(5 + len(seed_keys)))
            rows.append([Cell(row["label"]), *paper, *not_run])
            continue
        ours = [
            table.cell(f"{at}/{key}", form)
            for key, form in [
                ("fid", ".1f"),
                ("fid_ci95", ".1f"),
                ("kid", ".4f"),
                *seed_keys,
                ("band_accuracy", ".0%"),
                ("ita_error", ".1f"),
            ]
        ]
        rows.append([Cell(row["label"]), *paper, *ours])
    over_seeds = [f"FID over {len(seeds)} seeds", "± 95% (t)"] if seed_keys else []
    our_columns = ["our FID", "± 95%", "our KID", *over_seeds, "tone in band", "ITA error (°)"]
    columns = ["", "paper FID", "± 95%", *our_columns]
    section.tables.append(Table("FID, paper beside ours", columns, rows))
    page.add(
        section, page.picture(layout.table.relative_to(layout.out) / "ablation.png", "FID with 95% whiskers.")
    )


def _ablation_trainings(layout: DemoLayout, table: JsonFile) -> list[tuple[str, tuple[str, ...]]]:
    """(folder under ablation-runs/, its --set options) of each run the ablations stage trained."""
    seeds = (table.data.get("seeds") if table else None) or [0]
    return [
        (run.name, (*ABLATIONS[name], f"train.seed={seed}"))
        for name, seed, run in layout.ablation_trainings(seeds)
    ]


def _metrics_row(source: JsonFile, at: str, label: str) -> list[Cell]:
    keys = [
        ("n_real", "d"),
        ("n_fake", "d"),
        ("fid", ".1f"),
        ("fid_ci95", ".1f"),
        ("kid", ".4f"),
        ("kid_std", ".4f"),
        ("precision", ".2f"),
        ("recall", ".2f"),
    ]
    return [
        Cell(label),
        *(source.cell(f"{at}/{key}", form) for key, form in keys),
        Cell(source.get(f"{at}/note")),
    ]


def _evaluation(page: Page, layout: DemoLayout) -> None:
    relative = layout.eval.relative_to(layout.out)
    tone, roi, diversity = (
        page.json(relative / name) for name in ("tone.json", "roi.json", "diversity.json")
    )
    found = {group: page.json(layout.fid(group).relative_to(layout.out) / "fid.json") for group in FID_GROUPS}
    found["cell"] = page.json(relative / "fid.json")
    tables = {group: fid for group, fid in found.items() if fid}
    section = Section("evaluation", "How close, for every condition and skin tone")
    if not (tables or tone or roi):
        section.missing = "The evaluation stage has not run."
        page.add(section)
        return
    if tables:
        fid = next(iter(tables.values()))
        section.text.append(
            f"{fid.get('/n_real')} real test images against {fid.get('/n_fake')} synthetic ones; FID as mean "
            f"+/- 1.96 std over {fid.get('/trials')} trials of {fid.get('/sample_size')} images. Groups with "
            f"fewer than {MIN_IMAGES_FOR_FID} images on a side get KID only: FID is biased on small sets."
        )
    for group, fid in tables.items():
        rows = [_metrics_row(fid, "", "all")]
        rows += [
            _metrics_row(fid, f"/cells/{index}", " / ".join(cell["cell"].values()))
            for index, cell in enumerate(fid.get("/cells"))
        ]
        columns = [
            "images",
            "real",
            "synthetic",
            "FID",
            "± 95%",
            "KID",
            "± std",
            "precision",
            "recall",
            "note",
        ]
        title = f"FID, KID, precision and recall per {group.replace('_', ' ')}"
        section.tables.append(Table(title, columns, rows))
    if tone:
        section.text.append(tone.get("/note"))
        table = _side_by_side(tone, "by_skin_type", "skin_type", TONE_COLUMNS)
        section.tables.append(replace(table, title="Skin-tone fidelity per requested Fitzpatrick type"))
    if roi:
        table = _side_by_side(roi, "by_condition", "condition", ROI_COLUMNS)
        section.tables.append(
            replace(table, title="Lesion contrast and box-edge halos", note=roi.get("/note"))
        )
        table = _side_by_side(roi, "by_condition", "condition", MORPHOLOGY_COLUMNS)
        section.tables.append(replace(table, title="Lesion shape per box: separate spots and ragged borders"))
    if diversity:
        section.tables.append(_diversity_table(diversity))
    page.add(
        section, page.picture(relative / "tone.png", "ITA per requested Fitzpatrick type, real vs synthetic.")
    )


def _side_by_side(source: JsonFile, groups: str, name: str, keys: list[tuple[str, str, str]]) -> Table:
    """One row per group (skin type or condition) and `all`, the sets (real, synthetic) side by side."""
    sets = source.get("/sets")
    places = []
    for index, entry in enumerate(sets):
        found = {
            group[name] or "unknown": f"/sets/{index}/{groups}/{i}" for i, group in enumerate(entry[groups])
        }
        places.append({**found, "all": f"/sets/{index}/overall"})
    labels = list(dict.fromkeys(label for found in places for label in found if label != "all"))
    rows = []
    for label in [*labels, "all"]:
        row = [Cell(label)]
        for found in places:
            at = found.get(label)
            row += [source.cell(f"{at}/{key}", form) if at else Cell("-") for key, form, _ in keys]
        rows.append(row)
    columns = [name.replace("_", " ")]
    for entry in sets:
        columns += [f"{entry['label']}: {keys[0][2]}", *(title for _, _, title in keys[1:])]
    return Table("", columns, rows)


TONE_COLUMNS = [
    ("n_images", "d", "n"),
    ("band_accuracy", ".0%", "in band"),
    ("ita_error", ".1f", "ITA error (°)"),
]
ROI_COLUMNS = [("contrast", ".2f", "ROI contrast"), ("edge_score", ".2f", "box-edge score")]


MORPHOLOGY_COLUMNS = [
    ("morphology/n_boxes", "d", "boxes"),
    ("morphology/components/mean", ".1f", "components"),
    ("morphology/irregularity/mean", ".2f", "irregularity"),
]
DIVERSITY_COLUMNS = [
    ("n_maps", "d", "maps"),
    ("n_samples", "d", "samples"),
    ("synthetic", ".2f", "one map's samples"),
    ("real", ".2f", "real crops alike"),
    ("ratio", ".2f", "ratio"),
    ("precision", ".2f", "precision"),
]


def _diversity_table(diversity: JsonFile) -> Table:
    """Per condition (then all): how far apart one map's samples lie, beside real crops of its kind."""
    places = [
        (row["condition"], f"/conditions/{index}") for index, row in enumerate(diversity.get("/conditions"))
    ]
    rows = [
        [Cell(label), *(diversity.cell(f"{at}/{key}", form) for key, form, _ in DIVERSITY_COLUMNS)]
        for label, at in [*places, ("all", "/overall")]
    ]
    return Table(
        "Per-map diversity: mean pairwise Inception distance",
        ["condition", *(title for _, _, title in DIVERSITY_COLUMNS)],
        rows,
        note=diversity.get("/note") or f"Real reference: {diversity.get('/reference')}.",
    )


def _change_cells(source: JsonFile, at: str) -> list[Cell]:
    """Baseline, augmented and their difference, each shown with its 95% interval."""
    return [source.cell(f"{at}/{run}", ".3f") for run in ("baseline", "augmented", "difference")]


def _classification(page: Page, layout: DemoLayout) -> None:
    relative = layout.comparison.relative_to(layout.out)
    compare = page.json(relative / "compare.json")
    section = Section("classification", "Synthetic images as training data (Fig. 8)")
    if not compare:
        section.missing = "The classifier stage has not run."
        page.add(section)
        return
    baseline = page.json(layout.classify.relative_to(layout.out) / "baseline" / "run.json")
    augmented = page.json(layout.classify.relative_to(layout.out) / "augmented" / "run.json")
    settings = page.json(DEMO_SETTINGS_FILE)
    rare = settings.get("/rare_condition") if settings else None
    config_file = layout.classify / "baseline" / "config.yaml"
    config = yaml.safe_load(config_file.read_text()) if config_file.is_file() else None
    if rare and baseline and augmented and config:
        section.text.append(
            f"Two classifiers ({config['model']['arch']}, {config['data']['size']} px, "
            f"{_starting_weights(baseline)}), trained on {_classifier_input(config)} of the train cases "
            "with the same flips and colour jitter. Both keep only "
            f"{baseline.get('/train_counts')[rare]} real training photos of {rare}; the augmented one adds "
            f"{augmented.get('/n_synthetic')} synthetic {rare} images made by the demo's generator from "
            "validation maps. Both are scored on the same test photos, with 95% bootstrap intervals over "
            "the test images; the tests are paired, image by image."
        )
    classes = compare.get("/classes")
    t_test = compare.get("/paired_t")
    summary = [
        Cell("top-1"),
        compare.cell("/n_images", "d"),
        *_change_cells(compare, "/top1"),
        compare.cell("/mcnemar/exact_p", ".3g"),
        compare.cell("/paired_t/p", ".3g") if t_test["p"] is not None else Cell(t_test["note"] or "-"),
    ]
    run_columns = ["baseline [95% CI]", "augmented [95% CI]", "difference [95% CI]"]
    section.tables.append(
        Table(
            "Top-1 accuracy, the same test photos for both runs",
            ["", "test photos", *run_columns, "McNemar exact p", "paired t-test p"],
            [summary],
        )
    )
    per_class = [
        [
            Cell(name),
            compare.cell(f"/per_class/{index}/support", "d"),
            *_change_cells(compare, f"/per_class/{index}/f1"),
        ]
        for index, name in enumerate(classes)
    ]
    section.tables.append(Table("F1 per condition", ["condition", "test photos", *run_columns], per_class))
    per_type = [
        [
            Cell(group["skin_type"]),
            compare.cell(f"/per_skin_type/{index}/n", "d"),
            *_change_cells(compare, f"/per_skin_type/{index}/top1"),
            compare.cell(f"/per_skin_type/{index}/mcnemar_exact_p", ".3g"),
        ]
        for index, group in enumerate(compare.get("/per_skin_type"))
    ]
    section.tables.append(
        Table("Top-1 per skin type", ["skin type", "test photos", *run_columns, "McNemar exact p"], per_type)
    )
    page.add(
        section,
        page.picture(relative / "compare.png", "F1 per condition, baseline vs augmented, 95% whiskers."),
    )


def _starting_weights(run: JsonFile) -> str:
    pretrained = run.get("/pretrained")
    if pretrained:
        return f"from {pretrained['trained_on']} weights ({pretrained['package']}, {pretrained['licence']})"
    return f"from {run.get('/weights')}" if run.get("/weights") else "from scratch"


def _classifier_input(config: dict) -> str:
    if config["data"].get("input") == "roi":
        return "a square around each photo's lesion (`data.input=roi`)"
    return "the whole photos"


def _reproduce(page: Page, commands: dict[str, str]) -> None:
    stages = page.json("stages.json")
    section = Section("reproduce", "How this page was made")
    for caption, text in commands.items():
        section.code.append((caption, text))
    if stages:
        rows = [
            [Cell(name), stages.cell(f"/{escape_key(name)}/seconds", ".0f")]
            for name, record in stages.data.items()
            if record.get("seconds") is not None
        ]
        section.tables.append(Table("Time per stage on this machine", ["stage", "seconds"], rows))
    page.add(section)


def write_report(runs: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Builds OUT (an .html file) from the outputs under RUNS (a demo folder)."""
    layout = DemoLayout(Path(runs))
    if not layout.out.is_dir():
        raise UserError(
            f"{layout.out} is not a folder of stage outputs; run `dermgan demo --out {layout.out}`"
        )
    page = Page(layout.out)
    phantom = is_phantom(layout)
    _data(page, layout, phantom)
    for add_section in (_training, _generation, _ablation, _evaluation, _classification):
        add_section(page, layout)
    environment = Environment(loader=PackageLoader("dermgan.report"), autoescape=select_autoescape())
    commands = {}
    settings = page.json(DEMO_SETTINGS_FILE)
    if settings:
        template = environment.get_template("demo-commands.txt")
        table = page.json(layout.table.relative_to(layout.out) / "ablation.json")
        commands["The demo, and the same stages as single commands"] = template.render(
            out=runs,
            s=settings.data,
            sample_size=table.get("/sample_size") if table else "N",
            tone_maps=tone_sweep_maps(settings.get("/image_size")),
            ablated=_ablation_trainings(layout, table) if settings.get("/ablations") else [],
            seeds=",".join(map(str, table.data.get("seeds") or [])) if table else "",
        )
    commands["On real data"] = environment.get_template("real-data-commands.txt").render()
    _reproduce(page, commands)
    html = environment.get_template("report.html").render(
        sections=page.sections,
        made=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        phantom=phantom,
    )
    out = Path(out)
    write_text(out, html)
    return out
