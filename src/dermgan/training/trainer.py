"""`dermgan train`: builds the networks, streams the train split, steps, logs, checkpoints and releases.

A run directory holds config.yaml, codebook.json, metrics.jsonl, tensorboard/, samples/,
checkpoints/step-XXXXXXX.pt and, at the end, generator.safetensors + generator.json + MODEL_CARD.md.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from dermgan.data.dataset import PreparedPairs
from dermgan.errors import UserError
from dermgan.models import EMA
from dermgan.training import distributed
from dermgan.training.callbacks import StepCallback, TrainingMoment
from dermgan.training.checkpoint import (
    latest_checkpoint,
    load_checkpoint,
    restore_rng,
    rng_state,
    save_checkpoint,
)
from dermgan.training.config import Config, load_config, save_config
from dermgan.training.metrics import RunLog
from dermgan.training.networks import Networks
from dermgan.training.release import GeneratorInfo, data_provenance, save_generator, write_model_card
from dermgan.training.samples import SampleGrid
from dermgan.training.stream import SampleStream, StepBatches

CONFIG_FILE = "config.yaml"


class TrainingDiverged(UserError):
    """A loss became NaN or infinite: the run stops before saving anything from that step."""


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    losses: dict[str, float]
    is_main: bool = True
    """False on every rank but 0 under torchrun: only one process reports."""


def lr_factor(step: int, config: Config) -> float:
    """pix2pix's schedule: constant, then linear decay to zero from `decay_start` of the run."""
    start = int(config.train.decay_start * config.train.max_steps)
    if step < start:
        return 1.0
    return max(0.0, 1.0 - (step - start) / max(1, config.train.max_steps - start))


def set_learning_rates(
    optimizer_g: torch.optim.Optimizer, optimizer_d: torch.optim.Optimizer, step: int, config: Config
) -> None:
    """Each optimiser's own base rate (train.lr, train.lr_d) times the schedule at `step`.

    The bases come from the config, not the optimisers' state, so `--resume --set train.lr_d=...` applies.
    """
    factor = lr_factor(step, config)
    for optimizer, base in ((optimizer_g, config.train.lr), (optimizer_d, config.train.discriminator_lr)):
        for group in optimizer.param_groups:
            group["lr"] = base * factor


def distinct_rank_seed(seed: int, rank: int, step: int) -> int:
    """A seed for rank `rank`'s random stream from `step` on, distinct from every other rank's."""
    return hash((seed, rank, step)) % 2**63


def _train_pairs(config: Config) -> PreparedPairs:
    return PreparedPairs(config.data.path, "train", size=config.data.size, encoding=config.data.encoding)


def _grid_pairs(config: Config) -> PreparedPairs:
    """Held-out crops for the sample grid: validation if the dataset has any, else train."""
    try:
        return PreparedPairs(config.data.path, "val", size=config.data.size, encoding=config.data.encoding)
    except UserError:
        return _train_pairs(config)


class Trainer:
    """One training run; the same object runs as a single process or as one rank under torchrun."""

    def __init__(
        self,
        config: Config,
        run_dir: str | os.PathLike[str],
        *,
        resume: bool,
        progress: bool = True,
        callbacks: Sequence[StepCallback] = (),
    ):
        self.config, self.run_dir, self.progress = config, Path(run_dir), progress
        self.callbacks = list(callbacks)
        self.place = distributed.start()
        train = config.train
        if train.batch_size % self.place.world_size:
            raise UserError(
                f"train.batch_size {train.batch_size} must divide among {self.place.world_size} processes"
            )
        if train.sync_bn and self.place.distributed and self.place.device.type != "cuda":
            raise UserError(
                "train.sync_bn needs GPUs (PyTorch's SyncBatchNorm runs on CUDA only); on CPUs set "
                "model.norm=instance, which has no batch statistics to synchronise"
            )
        torch.manual_seed(train.seed)
        self.pairs = _train_pairs(config)
        map_channels = self.pairs.codebook.map_channels(config.data.encoding)
        self.networks = Networks.build(
            config, map_channels, self.place.device, sync_bn=train.sync_bn and self.place.distributed
        )
        self.generator, self.discriminator = self.networks.generator, self.networks.discriminator
        self.optimizer_g, self.optimizer_d = self.networks.optimizer_g, self.networks.optimizer_d
        self.ema = EMA(self.generator, train.ema_decay) if train.ema_decay > 0 else None
        self.step = self._restore() if resume else 0
        if self.place.rank > 0:
            # Every rank starts from one seed so the networks start equal; from here each rank needs its
            # own dropout masks and decoder noise, or the ranks' draws repeat one another. Rank 0 keeps
            # the single-process stream (and its checkpointed state), so one GPU matches a plain run.
            torch.manual_seed(distinct_rank_seed(train.seed, self.place.rank, self.step))
        self.map_channels = map_channels

    def _state(self) -> dict:
        state = {
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(),
            "optimizer_d": self.optimizer_d.state_dict(),
            **rng_state(self.place.device),
        }
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def _restore(self) -> int:
        path = latest_checkpoint(self.run_dir)
        if path is None:
            raise UserError(f"{self.run_dir} has no checkpoint to resume from (checkpoints/step-*.pt)")
        state = load_checkpoint(path)
        try:
            self.generator.load_state_dict(state["generator"])
            self.discriminator.load_state_dict(state["discriminator"])
            self.optimizer_g.load_state_dict(state["optimizer_g"])
            self.optimizer_d.load_state_dict(state["optimizer_d"])
            if self.ema is not None:
                self.ema.load_state_dict(state["ema"])
        except (KeyError, RuntimeError, ValueError) as error:
            raise UserError(f"{path} does not match this run's networks or config: {error}") from None
        restore_rng(state, self.place.device)
        return int(state["step"])

    def _loader(self) -> DataLoader:
        train = self.config.train
        stream = SampleStream(self.pairs, train.seed, self.config.data.flip)
        batches = StepBatches(
            self.step, train.max_steps, train.batch_size, self.place.rank, self.place.world_size
        )
        return DataLoader(
            stream,
            batch_sampler=batches,
            num_workers=train.num_workers,
            pin_memory=self.place.device.type == "cuda",
            persistent_workers=False,
            # Its own generator: drawing worker seeds from the global one would shift dropout's draws
            # between a run and its resumption. The samples themselves are seeded by stream position.
            generator=torch.Generator().manual_seed(train.seed),
        )

    def _prepare_run_dir(self, resumed: bool) -> None:
        if not self.place.is_main or resumed:
            return
        self.run_dir.mkdir(parents=True, exist_ok=True)
        save_config(self.config, self.run_dir / CONFIG_FILE)
        shutil.copyfile(Path(self.config.data.path) / "codebook.json", self.run_dir / "codebook.json")

    def _check_finite(self, losses: dict[str, torch.Tensor], step: int) -> dict[str, float]:
        values = dict(zip(losses, torch.stack(list(losses.values())).tolist(), strict=True))
        bad = {name: value for name, value in values.items() if not math.isfinite(value)}
        if distributed.any_rank(bool(bad), self.place):
            named = ", ".join(f"{name} = {value}" for name, value in bad.items()) or "on another rank"
            raise TrainingDiverged(
                f"training diverged at step {step}: {named}. Nothing from this step was saved; "
                f"resume from the last checkpoint with a lower train.lr, or check the data."
            )
        return values

    def _release(self) -> None:
        generator = self.ema.module if self.ema is not None else self.generator
        datasets, licences = data_provenance(self.pairs)
        info = GeneratorInfo(
            step=self.step,
            config=self.config,
            codebook=self.pairs.codebook,
            map_channels=self.map_channels,
            datasets=datasets,
            licences=licences,
        )
        save_generator(self.run_dir, generator, info)
        write_model_card(self.run_dir, self.config, self.pairs, self.step)

    def _measure(self, callbacks: list[StepCallback]) -> dict[str, float]:
        """The numbers of the callbacks due now, from the generator that would be released now.

        They run on a fork of the random state: whatever they draw (a data loader's seed, noise), training's
        own stream goes on as if they had not run, so a run with a curve trains the same weights as one
        without, and a resumed run with other callbacks repeats the original exactly."""
        if not callbacks:
            return {}
        generator = self.ema.module if self.ema is not None else self.generator
        generator.eval()
        moment = TrainingMoment(self.step, generator, self.config, self.place.device)
        measured: dict[str, float] = {}
        devices = [self.place.device] if self.place.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            for callback in callbacks:
                measured.update(callback(moment))
        return measured

    def fit(self) -> TrainResult:
        """Trains from the current step to train.max_steps; returns the final step and losses."""
        train, place = self.config.train, self.place
        resumed = self.step > 0
        self._prepare_run_dir(resumed)
        log = RunLog(self.run_dir, enabled=place.is_main)
        log.truncate_after(self.step)
        grid = SampleGrid(_grid_pairs(self.config)) if place.is_main else None
        gan_step = self.networks.gan_step(self.config, place.device, place.distributed)
        values: dict[str, float] = {}
        window_start, window_steps = time.perf_counter(), 0
        bar = tqdm(
            total=train.max_steps,
            initial=self.step,
            desc="training",
            unit="step",
            disable=not (self.progress and place.is_main),
        )
        try:
            for batch in self._loader():
                set_learning_rates(self.optimizer_g, self.optimizer_d, self.step, self.config)
                self.generator.train()
                layout = self.networks.memory_format
                maps, images, roi = (
                    t.to(place.device, non_blocking=True).contiguous(memory_format=layout)
                    for t in (batch.map, batch.image, batch.roi_mask)
                )
                values = self._check_finite(gan_step(maps, images, roi), self.step + 1)
                if self.ema is not None:
                    self.ema.update(self.generator)
                self.step += 1
                window_steps += 1
                bar.update()
                due = [c for c in self.callbacks if c.due(self.step, train.max_steps)]
                if due or self.step % train.log_every == 0 or self.step == train.max_steps:
                    elapsed = time.perf_counter() - window_start
                    log.log(
                        self.step,
                        {
                            **values,
                            "lr": self.optimizer_g.param_groups[0]["lr"],
                            "lr_d": self.optimizer_d.param_groups[0]["lr"],
                            "images_per_s": window_steps * train.batch_size / elapsed,
                            "d_g_balance": values["loss_d"] / max(values["loss_g_gan"], 1e-8),
                            **self._measure(due),
                        },
                    )
                    bar.set_postfix(
                        {k.removeprefix("loss_"): f"{values[k]:.3g}" for k in ("loss_d", "loss_g")}
                    )
                    window_start, window_steps = time.perf_counter(), 0
                if grid is not None and (self.step % train.sample_every == 0 or self.step == train.max_steps):
                    picture = grid.render(self.ema.module if self.ema else self.generator, place.device)
                    grid.save(picture, self.run_dir / "samples" / f"step-{self.step:07d}.png")
                    log.image("samples", picture, self.step)
                if self.step % train.checkpoint_every == 0 or self.step == train.max_steps:
                    if place.is_main:
                        save_checkpoint(self.run_dir, self.step, self._state(), train.keep_checkpoints)
                    distributed.barrier()
            if place.is_main:
                self._release()
        finally:
            bar.close()
            log.close()
        return TrainResult(self.run_dir, self.step, values, place.is_main)


def train(
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    config: str | os.PathLike[str] | None = None,
    overrides: list[str] | tuple[str, ...] = (),
    resume: str | os.PathLike[str] | None = None,
    progress: bool = True,
    callbacks: Sequence[StepCallback] = (),
) -> TrainResult:
    """Starts a run (data + out [+ config]) or resumes one (resume = its run directory); `callbacks`
    measure the generator at their steps (see training/callbacks.py)."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / CONFIG_FILE).exists():
            raise UserError(
                f"{run_dir} is not a run directory (no {CONFIG_FILE}); start one with --data and --out"
            )
        resolved = load_config(run_dir / CONFIG_FILE, overrides)
    else:
        if data is None or out is None:
            raise UserError("give --data PREPARED_DIR and --out RUN_DIR, or --resume RUN_DIR")
        run_dir = Path(out)
        if latest_checkpoint(run_dir) is not None:
            raise UserError(
                f"{run_dir} already holds a run; continue it with --resume {run_dir}, or pick a new --out"
            )
        resolved = load_config(config, overrides)
        resolved.data.path = str(Path(data).resolve())
    try:
        trainer = Trainer(
            resolved, run_dir, resume=resume is not None, progress=progress, callbacks=callbacks
        )
        return trainer.fit()
    finally:
        distributed.stop()
