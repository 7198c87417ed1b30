"""`dermgan classify train`: the selected photos, resized once, stream through the network; checkpoints,
logs and resume are the GAN trainer's (training/checkpoint.py, metrics.py, stream.py).

Steps, not epochs, are the unit: `train.epochs` becomes ceil(epochs x training images / batch) steps,
and a killed run resumed from its last checkpoint ends with the same weights as an uninterrupted one.
After every epoch (ceil(training images / batch) steps) and the last step, validation top-1 is logged
(the learning curve); the weights of the best epoch so far are kept in checkpoints/best.safetensors
and become the run's classifier, and `train.patience` epochs without a better one stop the run.
"""

from __future__ import annotations

import copy
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel
from torch.utils.data import DataLoader
from tqdm import tqdm

from dermgan.classification.batch_norm import recompute_batch_norm
from dermgan.classification.config import ClassifierConfig
from dermgan.classification.examples import read_case_splits, read_examples
from dermgan.classification.leakage import check_leakage, read_generator_data
from dermgan.classification.model import build_classifier, load_weights
from dermgan.classification.plot import plot_learning_curve
from dermgan.classification.predict import predict
from dermgan.classification.pretrained import PretrainedWeights, load_imagenet
from dermgan.classification.run_dir import (
    BEST,
    CURVE,
    SPLITS,
    WEIGHTS,
    RunInputs,
    read_inputs,
    read_run_config,
    save_classifier,
    start_run,
)
from dermgan.classification.selection import TrainingSet, select
from dermgan.classification.tensors import TrainingStream, labelled
from dermgan.errors import UserError
from dermgan.files import write_bytes
from dermgan.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from dermgan.training.config import load_config
from dermgan.training.metrics import RunLog
from dermgan.training.stream import StepBatches

BATCH_NORM_IMAGES = 512
"""Training images (evenly spaced) whose statistics the evaluation copy's batch norm takes."""


class EpochScore(BaseModel):
    """One point of the learning curve: validation top-1 after `epoch` epochs (fractional at the end)."""

    epoch: float
    step: int
    val_top1: float
    loss: float | None = None
    """Mean training loss over the steps since the previous point."""


class TrainSummary(BaseModel):
    run_dir: str
    step: int
    max_steps: int
    steps_run: int
    """Steps this call trained: 0 when a finished run is resumed without more epochs."""
    loss: float | None
    """The last step's loss; None when no step ran."""
    val_top1: float | None
    classes: list[str]
    train_counts: dict[str, int]
    n_synthetic: int
    weights: str | None = None
    weights_left_out: list[str] = []
    pretrained: PretrainedWeights | None = None
    curve: list[EpochScore] = []
    """Validation top-1 after every epoch, from the run's metrics.jsonl (resumed parts included)."""
    best: EpochScore | None = None
    """The epoch whose weights the run keeps: the first with the highest validation top-1."""
    stopped_early: bool = False
    """True when `train.patience` epochs went by without a better validation top-1."""


def cosine_lr(step: int, max_steps: int, lr: float) -> float:
    return 0.5 * lr * (1.0 + math.cos(math.pi * min(step, max_steps) / max_steps))


def weighted_cross_entropy(
    logits: torch.Tensor, labels: torch.Tensor, synthetic: torch.Tensor, synthetic_weight: float
) -> torch.Tensor:
    """Cross-entropy averaged with weight `synthetic_weight` for synthetic images and 1 for real ones."""
    losses = torch.nn.functional.cross_entropy(logits, labels, reduction="none")
    weights = torch.where(synthetic, synthetic_weight, 1.0)
    return (losses * weights).sum() / weights.sum().clamp_min(1e-12)


class ClassifierTrainer:
    """One run: network, optimiser and data; `fit` trains from the current step to the last."""

    def __init__(self, config: ClassifierConfig, run_dir: Path, data: TrainingSet, *, progress: bool = True):
        self.config, self.run_dir, self.data, self.progress = config, run_dir, data, progress
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        torch.manual_seed(config.train.seed)
        self.model = build_classifier(config.model, len(data.classes)).to(self.device)
        train = config.train
        self.optimizer = torch.optim.AdamW(
            self.model.parameters(), lr=train.lr, weight_decay=train.weight_decay
        )
        self.train_images = labelled(data.train, data.classes, config, progress)
        self.val_images = labelled(data.val, data.classes, config, progress) if data.val else None
        self.max_steps = max(1, math.ceil(train.epochs * len(data.train) / train.batch_size))
        self.steps_per_epoch = max(1, math.ceil(len(data.train) / train.batch_size))
        if train.patience and self.val_images is None:
            raise UserError(
                f"train.patience={train.patience} stops on validation top-1, but the data has no "
                "validation photos; give a split with val cases, or set train.patience=0"
            )
        self.step = 0
        self.best: EpochScore | None = None
        self.epochs_since_best = 0
        self.loss_sum, self.loss_steps = 0.0, 0

    def restore(self) -> None:
        path = latest_checkpoint(self.run_dir)
        if path is None:
            raise UserError(f"{self.run_dir} has no checkpoint to resume from (checkpoints/step-*.pt)")
        state = load_checkpoint(path)
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (KeyError, RuntimeError, ValueError) as error:
            raise UserError(f"{path} does not match this run's classifier or config: {error}") from None
        restore_rng(state, self.device)
        self.step = int(state["step"])
        self.best = EpochScore.model_validate(state["best"]) if state.get("best") else None
        self.epochs_since_best = int(state.get("epochs_since_best", 0))
        self.loss_sum, self.loss_steps = float(state.get("loss_sum", 0.0)), int(state.get("loss_steps", 0))

    def _state(self) -> dict:
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "best": self.best.model_dump() if self.best else None,
            "epochs_since_best": self.epochs_since_best,
            "loss_sum": self.loss_sum,
            "loss_steps": self.loss_steps,
            **rng_state(self.device),
        }

    def _evaluation_copy(self) -> torch.nn.Module:
        """The network with batch-norm statistics of its current weights; the training copy is untouched,
        so checkpoints and a resumed run stay exactly those of an uninterrupted one."""
        model = copy.deepcopy(self.model)
        n = len(self.train_images)
        chosen = np.linspace(0, n - 1, min(n, BATCH_NORM_IMAGES)).round().astype(int).tolist()
        images = torch.utils.data.Subset(self.train_images, chosen)
        recompute_batch_norm(model, images, self.device, workers=self.config.train.num_workers)
        return model

    def _val_top1(self, model: torch.nn.Module) -> float:
        workers = self.config.train.num_workers
        probabilities = predict(model, self.val_images, self.device, workers=workers, progress=False)
        return float(np.mean(probabilities.argmax(axis=1) == np.array(self.val_images.labels)))

    def _end_epoch(self) -> dict[str, float]:
        """Scores the epoch on validation and keeps its weights when they are the best so far."""
        model = self._evaluation_copy()
        score = EpochScore(
            epoch=round(self.step / self.steps_per_epoch, 4),
            step=self.step,
            val_top1=self._val_top1(model),
            loss=self.loss_sum / self.loss_steps if self.loss_steps else None,
        )
        self.loss_sum, self.loss_steps = 0.0, 0
        if self.best is None or score.val_top1 > self.best.val_top1:
            self.best, self.epochs_since_best = score, 0
            save_classifier(self.run_dir, model, BEST)
        else:
            self.epochs_since_best += 1
        logged = {"epoch": score.epoch, "val_top1": score.val_top1}
        return logged | ({"train_loss": score.loss} if score.loss is not None else {})

    def patience_ran_out(self) -> bool:
        patience = self.config.train.patience
        return bool(patience) and self.epochs_since_best >= patience

    def _release(self) -> None:
        """The run's classifier: the best epoch's weights, or the last ones without validation."""
        best = self.run_dir / BEST
        if self.val_images is None or not best.is_file():
            save_classifier(self.run_dir, self._evaluation_copy())
        else:
            write_bytes(self.run_dir / WEIGHTS, best.read_bytes())

    def _loader(self) -> DataLoader:
        train = self.config.train
        stream = TrainingStream(self.train_images, self.config.data, train.seed)
        return DataLoader(
            stream,
            batch_sampler=StepBatches(self.step, self.max_steps, train.batch_size),
            num_workers=train.num_workers,
            pin_memory=self.device.type == "cuda",
            generator=torch.Generator().manual_seed(train.seed),
        )

    def _train_step(self, images: torch.Tensor, labels: torch.Tensor, synthetic: torch.Tensor) -> float:
        train = self.config.train
        for group in self.optimizer.param_groups:
            group["lr"] = cosine_lr(self.step, self.max_steps, train.lr)
        loss = weighted_cross_entropy(
            self.model(images.to(self.device)),
            labels.to(self.device),
            synthetic.to(self.device),
            train.synthetic_loss_weight,
        )
        if not torch.isfinite(loss):
            raise UserError(
                f"classifier training diverged at step {self.step + 1} (loss {loss.item()}); resume from the "
                "last checkpoint with a lower train.lr"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def fit(self) -> TrainSummary:
        train = self.config.train
        log = RunLog(self.run_dir)
        log.truncate_after(self.step)
        self.model.train()
        first_step, loss = self.step, None
        window_start, window_images = time.perf_counter(), 0
        bar = tqdm(
            total=self.max_steps, initial=self.step, desc="training", unit="step", disable=not self.progress
        )
        batches = [] if self.patience_ran_out() else self._loader()
        try:
            for images, labels, synthetic in batches:
                loss = self._train_step(images, labels, synthetic)
                self.step += 1
                self.loss_sum, self.loss_steps = self.loss_sum + loss, self.loss_steps + 1
                bar.update()
                window_images += len(labels)
                last = self.step == self.max_steps
                values: dict[str, float] = {}
                if self.step % train.log_every == 0 or last:
                    rate = window_images / (time.perf_counter() - window_start)
                    values |= {"loss": loss, "lr": self.optimizer.param_groups[0]["lr"], "images_per_s": rate}
                    bar.set_postfix(loss=f"{loss:.3g}")
                    window_start, window_images = time.perf_counter(), 0
                epoch_end = self.val_images is not None and (self.step % self.steps_per_epoch == 0 or last)
                if epoch_end:
                    values |= self._end_epoch()
                    bar.set_postfix(loss=f"{loss:.3g}", val_top1=f"{values['val_top1']:.3f}")
                stopping = epoch_end and self.patience_ran_out()
                if self.step % train.checkpoint_every == 0 or last or epoch_end:
                    save_checkpoint(self.run_dir, self.step, self._state(), train.keep_checkpoints)
                if values:
                    log.log(self.step, values)
                if stopping:
                    break
            self._release()
        finally:
            bar.close()
            log.close()
        curve = read_curve(self.run_dir)
        if curve:
            plot_learning_curve(curve, self.best, self.run_dir / CURVE)
        return TrainSummary(
            run_dir=str(self.run_dir),
            step=self.step,
            max_steps=self.max_steps,
            steps_run=self.step - first_step,
            loss=loss,
            val_top1=curve[-1].val_top1 if curve else None,
            classes=self.data.classes,
            train_counts=self.data.class_counts(),
            n_synthetic=sum(e.synthetic for e in self.data.train),
            curve=curve,
            best=self.best,
            stopped_early=self.patience_ran_out() and self.step < self.max_steps,
        )


def read_curve(run_dir: Path) -> list[EpochScore]:
    """The learning curve logged in a run's metrics.jsonl (validation top-1 after each epoch)."""
    path = run_dir / "metrics.jsonl"
    if not path.is_file():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        EpochScore(
            epoch=line["epoch"], step=line["step"], val_top1=line["val_top1"], loss=line.get("train_loss")
        )
        for line in lines
        if "val_top1" in line and "epoch" in line
    ]


def _with_weights(summary: TrainSummary, inputs: RunInputs) -> TrainSummary:
    """The summary with the weights the run started from, so the user sees what was not loaded."""
    return summary.model_copy(
        update={
            "weights": inputs.weights,
            "weights_left_out": inputs.weights_left_out,
            "pretrained": inputs.pretrained,
        }
    )


def _training_set(
    data: Path,
    extra: Path | None,
    splits: Path | None,
    generators: Sequence[Path],
    config: ClassifierConfig,
    progress: bool,
) -> tuple[TrainingSet, dict[str, str]]:
    """The selected photos (leakage-checked) and the case split of every real case."""
    real = read_examples(data, read_case_splits(data, splits), progress=progress)
    synthetic = read_examples(extra, {}, progress=progress) if extra is not None else []
    data = config.data
    chosen = select(
        real,
        synthetic,
        data.max_train_images,
        config.train.seed,
        synthetic_caps=data.max_synthetic_images,
        reserve=data.reserve_images,
        synthetic_only=data.synthetic_only,
    )
    check_leakage(chosen, [read_generator_data(g) for g in generators])
    return chosen, {e.case_id: e.split for e in real if not e.synthetic}


def train_classifier(
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    extra: str | os.PathLike[str] | None = None,
    splits: str | os.PathLike[str] | None = None,
    generators: Sequence[str | os.PathLike[str]] = (),
    weights: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    overrides: Sequence[str] = (),
    resume: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> TrainSummary:
    """Starts a run (data + out) or continues one (resume = its run directory, with optional overrides)."""
    if resume is not None:
        run_dir = Path(resume)
        inputs = read_inputs(run_dir)
        resolved = read_run_config(run_dir, list(overrides))
        chosen, _ = _training_set(
            Path(inputs.data),
            Path(inputs.extra) if inputs.extra else None,
            run_dir / SPLITS,
            [Path(g) for g in inputs.generators],
            resolved,
            progress,
        )
        trainer = ClassifierTrainer(resolved, run_dir, chosen, progress=progress)
        trainer.restore()
        return _with_weights(trainer.fit(), inputs)
    if data is None or out is None:
        raise UserError("give --data MANIFEST and --out RUN_DIR, or --resume RUN_DIR")
    run_dir = Path(out)
    if latest_checkpoint(run_dir) is not None:
        raise UserError(
            f"{run_dir} already holds a run; continue it with --resume {run_dir}, or pick a new --out"
        )
    resolved = load_config(config, list(overrides), schema=ClassifierConfig)
    extra_path = Path(extra) if extra is not None else None
    chosen, case_splits = _training_set(
        Path(data),
        extra_path,
        Path(splits) if splits else None,
        [Path(g) for g in generators],
        resolved,
        progress,
    )
    if weights is not None and resolved.model.pretrained:
        raise UserError(
            f"--weights {weights} and model.pretrained=true both choose the starting weights; drop one"
        )
    trainer = ClassifierTrainer(resolved, run_dir, chosen, progress=progress)
    left_out = load_weights(trainer.model, weights)[1] if weights is not None else []
    pretrained = load_imagenet(trainer.model) if resolved.model.pretrained else None
    inputs = RunInputs(
        data=str(Path(data).resolve()),
        extra=str(extra_path.resolve()) if extra_path else None,
        generators=[str(Path(g).resolve()) for g in generators],
        weights=str(Path(weights).resolve()) if weights else None,
        weights_left_out=left_out,
        pretrained=pretrained,
        classes=chosen.classes,
        train_counts=chosen.class_counts(),
        n_synthetic=sum(e.synthetic for e in chosen.train),
        n_val=len(chosen.val),
        n_test=len(chosen.test),
    )
    start_run(run_dir, resolved, inputs, case_splits)
    return _with_weights(trainer.fit(), inputs)
