"""`dermgan study create`: a blinded study database from a real and a synthetic manifest."""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel

from dermgan.errors import UserError, fault_message
from dermgan.evaluation.image_sets import load_image_set
from dermgan.files import atomic_path
from dermgan.study.design import Candidate, DesignedQuestion, relevance_design, turing_design
from dermgan.study.encode import encode_study_image
from dermgan.study.participants import Participant, add_participants, new_token
from dermgan.study.store import (
    KINDS,
    SCHEMA,
    StudyMeta,
    open_database,
    transaction,
    write_meta,
)

IMAGE_ID_BYTES = 12
IMAGE_ID_PATTERN = r"^[A-Za-z0-9_-]{16}$"
"""Image ids are random (secrets.token_urlsafe(12)): they say nothing of an image's source or order."""


class ParticipantLink(BaseModel):
    name: str
    path: str


class StudyCreated(BaseModel):
    study: str
    kind: str
    conditions: list[str]
    n_questions: int
    n_real: int
    n_synthetic: int
    image_size: int
    admin_path: str
    participants: list[ParticipantLink]


def participant_path(token: str) -> str:
    return f"/p/{token}"


def admin_path(token: str) -> str:
    return f"/admin/{token}"


def _candidates(manifest: Path, source: str, split: str | None) -> list[Candidate]:
    if not manifest.exists():
        raise UserError(f"--{source} {manifest} does not exist; give a manifest or a folder holding one")
    images = load_image_set(manifest, split=split if source == "real" else None)
    if not images.rows:
        raise UserError(f"{manifest} is a folder of images; the study needs a manifest with conditions")
    candidates = []
    for path, row in zip(images.paths, images.rows, strict=True):
        if (row.get("source") or "real") != source:
            raise UserError(
                f"{manifest} row for {row['image']} has source {row.get('source')!r}; the --{source} "
                f"manifest must hold {source} images only"
            )
        candidates.append(Candidate(path, source, row["condition"], row.get("skin_type", "")))
    return candidates


def _conditions(candidates: Sequence[Candidate], asked: Sequence[str] | None) -> list[str]:
    both = {c.condition for c in candidates if c.source == "real"} & {
        c.condition for c in candidates if c.source == "synthetic"
    }
    if asked is None:
        if not both:
            raise UserError("the real and synthetic manifests share no condition")
        return sorted(both)
    missing = [c for c in asked if c not in both]
    if missing:
        raise UserError(
            f"condition(s) {', '.join(missing)} are not in both manifests; shared: {', '.join(sorted(both))}"
        )
    return list(asked)


def create_study(
    real: str | os.PathLike[str],
    synthetic: str | os.PathLike[str],
    kind: str,
    out: str | os.PathLike[str],
    *,
    conditions: Sequence[str] | None = None,
    n_real: int = 80,
    n_synthetic: int = 80,
    questions: int = 16,
    per_question: int = 8,
    participants: int = 10,
    image_size: int = 256,
    split: str | None = None,
    seed: int = 0,
) -> StudyCreated:
    """Draws the study's images, re-encodes them, and writes the database with its participants."""
    out = Path(out)
    if kind not in KINDS:
        raise UserError(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    if out.exists():
        raise UserError(f"{out} exists; a study is never overwritten (choose another --out)")
    for leftover in (out.with_name(f"{out.name}-wal"), out.with_name(f"{out.name}-shm")):
        if leftover.exists():
            raise UserError(f"{leftover} is left from an earlier study of that name; delete it first")
    if not 32 <= image_size <= 1024:
        raise UserError(f"--image-size {image_size} must be between 32 and 1024 pixels")
    if participants < 0:
        raise UserError("--participants must be 0 or more")
    candidates = _candidates(Path(real), "real", split) + _candidates(Path(synthetic), "synthetic", None)
    chosen = _conditions(candidates, conditions)
    if kind == "turing":
        design = turing_design(candidates, chosen, n_real, n_synthetic, seed)
    else:
        design = relevance_design(candidates, chosen, questions, per_question, seed)
    meta = StudyMeta(
        kind=kind, image_size=image_size, seed=seed, admin_token=new_token(), admin_csrf=new_token()
    )
    try:
        added = _write_study(out, meta, design, participants)
    except OSError as error:
        raise UserError(
            f"cannot write the study {out}: {fault_message(error) or error}; choose another --out "
            "(no file was left)"
        ) from None
    except sqlite3.OperationalError as error:
        raise UserError(
            f"cannot write the study {out} ({error}): free some space or choose another --out, then rerun "
            "(no file was left)"
        ) from None
    images = [image for question in design for image in question.images]
    return StudyCreated(
        study=str(out),
        kind=kind,
        conditions=chosen,
        n_questions=len(design),
        n_real=sum(image.source == "real" for image in images),
        n_synthetic=sum(image.source == "synthetic" for image in images),
        image_size=image_size,
        admin_path=admin_path(meta.admin_token),
        participants=[ParticipantLink(name=p.name, path=participant_path(p.token)) for p in added],
    )


def _write_study(
    out: Path, meta: StudyMeta, design: list[DesignedQuestion], participants: int
) -> list[Participant]:
    """The study database at `out`, complete or not at all (written beside it, then renamed).

    The journal stays in memory while it is written, so a full disk leaves no -wal/-shm files; serving
    the study switches it to WAL.
    """
    with atomic_path(out) as temporary:
        temporary.unlink()
        connection = open_database(temporary, journal="MEMORY")
        try:
            connection.executescript(SCHEMA)
            with transaction(connection):
                write_meta(connection, meta)
                _write_questions(connection, design, meta.image_size)
            return add_participants(connection, participants, meta.seed)
        finally:
            connection.close()


def _write_questions(connection: sqlite3.Connection, design: list[DesignedQuestion], image_size: int) -> None:
    for number, question in enumerate(design, start=1):
        connection.execute(
            "INSERT INTO questions (id, condition) VALUES (?, ?)", (number, question.condition)
        )
        for slot, image in enumerate(question.images):
            image_id = secrets.token_urlsafe(IMAGE_ID_BYTES)
            data = encode_study_image(image.path, image_size)
            connection.execute(
                "INSERT INTO images VALUES (?, ?, ?, ?, ?, ?)",
                (image_id, data, image.source, image.condition, image.skin_type, str(image.path)),
            )
            connection.execute("INSERT INTO question_images VALUES (?, ?, ?)", (number, slot, image_id))
