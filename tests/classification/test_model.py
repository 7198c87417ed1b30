"""The networks: MobileNetV2 by default, V3 on request, local weights loaded where names and shapes match."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file

from dermgan.classification.config import ClassifierModel
from dermgan.classification.model import build_classifier, load_weights
from dermgan.errors import UserError


@pytest.mark.parametrize("arch", ["mobilenet_v2", "mobilenet_v3_small"])
def test_the_network_has_one_output_per_class(arch: str):
    model = build_classifier(ClassifierModel(arch=arch), 5).eval()
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 5)


def test_weights_of_another_head_load_everything_but_the_head(tmp_path):
    source = build_classifier(ClassifierModel(), 1000)
    save_file(
        {k: v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "imagenet.safetensors")
    )
    torch.save({"state_dict": source.state_dict()}, tmp_path / "imagenet.pt")
    for name in ("imagenet.safetensors", "imagenet.pt"):
        target = build_classifier(ClassifierModel(), 7)
        loaded, left_out = load_weights(target, tmp_path / name)
        assert left_out == ["classifier.1.bias", "classifier.1.weight"]
        assert loaded == len(target.state_dict()) - 2
        assert torch.equal(target.features[0][0].weight, source.features[0][0].weight)


def test_weights_of_another_network_are_refused(tmp_path):
    save_file({"encoder.weight": torch.zeros(3)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(UserError, match="no tensor matching"):
        load_weights(build_classifier(ClassifierModel(), 3), tmp_path / "other.safetensors")
