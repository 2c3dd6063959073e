"""Image (and flat-feature) architectures sized from the data: mlp, cnn, resnet, torchvision's resnet18."""

from __future__ import annotations

import torch
from torch import nn

from ..data.bundle import DataSpec
from ..errors import ModelError
from ..recipe import ARCHS_FOR_KIND, ModelSection
from .builders import builds
from .classifier import Classifier, dense_stack
from .layers import Dropout


@builds("mlp", "tabular_mlp")
def build_mlp(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """Flatten → ``depth`` × (Linear, BatchNorm, ReLU, Dropout) → Linear."""
    n_in = 1
    for d in spec.input_shape:
        n_in *= d
    body, n_out = dense_stack(n_in, cfg.hidden, cfg.depth, cfg.dropout, cfg.batch_norm)
    return Classifier(nn.Sequential(nn.Flatten(), body), nn.Linear(n_out, spec.num_classes), cfg.arch)


@builds("cnn")
def build_cnn(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """``depth`` × (Conv3x3, BatchNorm, ReLU, MaxPool); channels start at ``width`` and double."""
    if len(spec.input_shape) != 3:
        raise ModelError(f"model.arch: 'cnn' needs images [C, H, W]; this data has input shape "
                         f"{spec.input_shape}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")
    c_in, h, w = spec.input_shape
    layers: list[nn.Module] = []
    for i in range(cfg.depth):
        c_out = cfg.width * 2**i
        layers.append(nn.Conv2d(c_in, c_out, 3, padding=1, bias=not cfg.batch_norm))
        if cfg.batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.ReLU(inplace=True))
        if min(h, w) >= 2:
            layers.append(nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        c_in = c_out
    layers.append(nn.Flatten())
    dense, n_out = dense_stack(c_in * h * w, cfg.hidden, 1, cfg.dropout, False)
    head = nn.Sequential(Dropout(cfg.dropout), *dense, nn.Linear(n_out, spec.num_classes))
    return Classifier(nn.Sequential(*layers), head, cfg.arch)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (1x1 projection when the shape changes)."""

    def __init__(self, c_in: int, c_out: int, stride: int, batch_norm: bool):
        super().__init__()
        norm = nn.BatchNorm2d if batch_norm else (lambda c: nn.Identity())
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = norm(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=not batch_norm)
        self.bn2 = norm(c_out)
        # one module per use: attribution methods such as DeepLift hook each activation separately
        self.relu1 = nn.ReLU(inplace=True)
        self.relu2 = nn.ReLU(inplace=True)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=not batch_norm),
                                          norm(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + self.shortcut(x))


@builds("resnet")
def build_resnet(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """Stem conv, then ``depth`` residual stages (stride 2 after the first), global average pool."""
    if len(spec.input_shape) != 3:
        raise ModelError(f"model.arch: 'resnet' needs images [C, H, W]; this data has input shape "
                         f"{spec.input_shape}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")
    c_in = spec.input_shape[0]
    stem = [nn.Conv2d(c_in, cfg.width, 3, padding=1, bias=not cfg.batch_norm)]
    if cfg.batch_norm:
        stem.append(nn.BatchNorm2d(cfg.width))
    layers: list[nn.Module] = [*stem, nn.ReLU(inplace=True)]
    c = cfg.width
    for i in range(cfg.depth):
        c_out = cfg.width * 2**i
        layers.append(BasicBlock(c, c_out, 1 if i == 0 else 2, cfg.batch_norm))
        c = c_out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(c, spec.num_classes))
    return Classifier(nn.Sequential(*layers), head, cfg.arch)


@builds("resnet18")
def build_resnet18(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """torchvision's ResNet-18 (ImageNet layout); its first convolution takes the data's channels.

    Built with random weights; `initialize` loads the ImageNet weights when ``model.pretrained``.
    """
    from torchvision.models import resnet18

    if len(spec.input_shape) != 3:
        raise ModelError(f"model.arch: 'resnet18' needs images [C, H, W]; this data has input shape "
                         f"{spec.input_shape}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")
    net = resnet18(weights=None)
    if spec.input_shape[0] != 3:
        net.conv1 = nn.Conv2d(spec.input_shape[0], 64, kernel_size=7, stride=2, padding=3, bias=False)
    features = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3,
                             net.layer4, net.avgpool, nn.Flatten())
    head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(net.fc.in_features, spec.num_classes))
    return Classifier(features, head, cfg.arch)
