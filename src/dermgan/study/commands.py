"""`dermgan study ...`: create a blinded study, serve it to participants, score it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from dermgan import console
from dermgan.errors import UserError
from dermgan.options import JsonFlag
from dermgan.parsing import split_list

study_app = typer.Typer(
    no_args_is_help=True, help="Human studies in the browser: the Turing test and the expert relevance test."
)
StudyArgument = Annotated[Path, typer.Argument(help="A study database written by `dermgan study create`.")]


@study_app.command("create")
def create_command(
    real: Annotated[Path, typer.Option(help="Manifest (or prepared folder) of real images.")],
    synthetic: Annotated[Path, typer.Option(help="Manifest (or generate folder) of synthetic images.")],
    kind: Annotated[str, typer.Option(help="turing (real or generated?) or relevance (which show X?).")],
    out: Annotated[Path, typer.Option(help="The study database to create, e.g. study.db.")],
    conditions: Annotated[
        str | None, typer.Option(help="Conditions to study (default: every one in both manifests).")
    ] = None,
    n_real: Annotated[int, typer.Option(help="Turing test: real images (paper: 80).")] = 80,
    n_synthetic: Annotated[int, typer.Option(help="Turing test: synthetic images (paper: 80).")] = 80,
    questions: Annotated[int, typer.Option(help="Relevance test: questions (paper: 16).")] = 16,
    per_question: Annotated[
        int, typer.Option(help="Relevance test: images per question, a multiple of 4.")
    ] = 8,
    participants: Annotated[
        int, typer.Option(help="Participants to create now (more from the admin page).")
    ] = 10,
    image_size: Annotated[int, typer.Option(help="Side in pixels every study image is re-encoded to.")] = 256,
    split: Annotated[
        str | None, typer.Option(help="Use only this split of the real images, e.g. test.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the image draw and the participants' orders.")] = 0,
    json_output: JsonFlag = False,
) -> None:
    """Build a balanced, blinded, shuffled study with its participants' personal links."""
    from dermgan.study.create import create_study

    names = split_list(conditions) if conditions else None
    if conditions is not None and not names:
        raise UserError(f"--conditions {conditions!r} names nothing; give a comma-separated list")
    created = create_study(
        real,
        synthetic,
        kind,
        out,
        conditions=names,
        n_real=n_real,
        n_synthetic=n_synthetic,
        questions=questions,
        per_question=per_question,
        participants=participants,
        image_size=image_size,
        split=split,
        seed=seed,
    )
    console.out.print(
        f"wrote {out}: {created.kind} study, {created.n_questions} questions, {created.n_real} real and "
        f"{created.n_synthetic} synthetic images of {', '.join(created.conditions)}",
        markup=False,
    )
    console.out.print(
        f"`dermgan study serve {out}` prints the admin link and each participant's personal link",
        markup=False,
    )
    if json_output:
        console.print_json_line(created)


@study_app.command("serve")
def serve_command(
    study: StudyArgument,
    host: Annotated[
        str, typer.Option(help="Address to listen on (keep 127.0.0.1 behind a proxy).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    public_url: Annotated[
        str | None, typer.Option(help="The address participants use, e.g. https://study.example.org.")
    ] = None,
) -> None:
    """Serve the study: participants' pages and the admin page. Answers are saved as they come."""
    import uvicorn

    from dermgan.study.app import make_app
    from dermgan.study.create import admin_path, participant_path
    from dermgan.study.store import connect, read_meta

    app = make_app(study)
    connection = connect(study)
    try:
        admin_token = read_meta(connection).admin_token
        links = connection.execute("SELECT name, token FROM participants ORDER BY id").fetchall()
    finally:
        connection.close()
    listener = _listen(host, port)
    base = (public_url or f"http://{host}:{port}").rstrip("/")
    console.out.print(
        f"admin page (keep it private): {base}{admin_path(admin_token)}", markup=False, soft_wrap=True
    )
    for name, token in links:
        console.out.print(f"{name}: {base}{participant_path(token)}", markup=False, soft_wrap=True)
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level="warning", proxy_headers=True
    )
    uvicorn.Server(config).run(sockets=[listener])


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound before any link is printed: a taken port is one clear error."""
    if not 1 <= port <= 65535:
        raise UserError(f"--port {port} must be between 1 and 65535")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError as error:
        raise UserError(f"--host {host!r} is not an address of this machine ({error})") from None
    listener = socket.socket(family, socket.SOCK_STREAM)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({error.strerror or error}); stop the other server or "
            "choose another --port"
        ) from None
    return listener


@study_app.command("results")
def results_command(
    study: StudyArgument,
    out: Annotated[
        Path, typer.Option(help="Folder for results.json, participants.csv, conditions.csv, KIND.png.")
    ],
    json_output: JsonFlag = False,
) -> None:
    """Score the answers so far: TPR and FPR (Turing test) or recall (relevance), with the figure."""
    from dermgan.study.results import study_results
    from dermgan.study.scoring import RATE_LABELS

    results = study_results(study, out)
    real_label, synthetic_label = RATE_LABELS[results.kind]
    table = Table(title=f"{results.kind} study: mean ± std over participants", title_justify="left")
    for name in ("condition", "participants", real_label, synthetic_label):
        table.add_column(name, justify="left" if name == "condition" else "right")
    for row in results.conditions:
        table.add_row(
            row.condition,
            str(row.n_participants),
            _mean_std(row.real_mean, row.real_std),
            _mean_std(row.synthetic_mean, row.synthetic_std),
        )
    console.out.print(table)
    answered = sum(p.answered for p in results.progress)
    console.out.print(
        f"{answered} answers from {len(results.progress)} participants; wrote results.json, "
        f"participants.csv, conditions.csv and {results.kind}.png to {out}",
        markup=False,
    )
    if json_output:
        console.print_json_line(results)


def _mean_std(mean: float | None, std: float | None) -> str:
    return "-" if mean is None else f"{mean:.2f} ± {std:.2f}"
