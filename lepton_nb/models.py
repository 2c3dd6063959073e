"""Small named architectures sized from the data.

Every model has ``features`` (the body) and ``head`` (the classifier), so fine-tuning can freeze
one and retrain the other, and interpretation can find the last conv layer or the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .data.bundle import DataSpec
from .errors import ModelError
from .recipe import ARCHS_FOR_KIND, ModelSection


class Classifier(nn.Module):
    """``head(features(x))``; ``arch`` names the builder that made it.

    With ``frozen_features`` set (see `freeze_features`), the features stay in eval mode even while
    the model trains: frozen layers keep their batch-norm statistics and use no dropout.
    """

    def __init__(self, features: nn.Module, head: nn.Module, arch: str):
        super().__init__()
        self.features = features
        self.head = head
        self.arch = arch
        self.frozen_features = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.frozen_features:
            self.features.eval()
        return self


def _dense_stack(n_in: int, hidden: int, depth: int, dropout: float, batch_norm: bool) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers.append(nn.Linear(n_in, hidden, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers += [nn.ReLU(inplace=True), nn.Dropout(dropout)]
        n_in = hidden
    return nn.Sequential(*layers), n_in


def build_mlp(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """Flatten → ``depth`` × (Linear, BatchNorm, ReLU, Dropout) → Linear."""
    n_in = 1
    for d in spec.input_shape:
        n_in *= d
    body, n_out = _dense_stack(n_in, cfg.hidden, cfg.depth, cfg.dropout, cfg.batch_norm)
    return Classifier(nn.Sequential(nn.Flatten(), body), nn.Linear(n_out, spec.num_classes), cfg.arch)


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
    dense, n_out = _dense_stack(c_in * h * w, cfg.hidden, 1, cfg.dropout, False)
    head = nn.Sequential(nn.Dropout(cfg.dropout), *dense, nn.Linear(n_out, spec.num_classes))
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
    head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(c, spec.num_classes))
    return Classifier(nn.Sequential(*layers), head, cfg.arch)


class TextCNN(nn.Module):
    """Embedding → parallel 1-D convolutions (kernel 3, 4, 5) → max over time."""

    def __init__(self, vocab_size: int, embed_dim: int, width: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, width, k, padding=k // 2) for k in (3, 4, 5))
        self.relus = nn.ModuleList(nn.ReLU() for _ in self.convs)
        self.out_features = 3 * width

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.embedding(ids).transpose(1, 2)
        return torch.cat([relu(conv(e)).amax(dim=2) for conv, relu in zip(self.convs, self.relus)], dim=1)


class TextBiLSTM(nn.Module):
    """Embedding → bidirectional LSTM over the unpadded words → last states of both directions."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.out_features = 2 * hidden

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.cat([h[-2], h[-1]], dim=1)


def build_text(spec: DataSpec, cfg: ModelSection) -> Classifier:
    if spec.kind != "text" or spec.vocab_size < 2:
        raise ModelError(f"model.arch: '{cfg.arch}' needs text (token ids and a vocabulary); this data is "
                         f"{spec.kind}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")
    if cfg.arch == "text_cnn":
        body: nn.Module = TextCNN(spec.vocab_size, cfg.embed_dim, cfg.width)
    else:
        body = TextBiLSTM(spec.vocab_size, cfg.embed_dim, cfg.hidden)
    head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(body.out_features, spec.num_classes))
    return Classifier(body, head, cfg.arch)


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
    head = nn.Sequential(nn.Dropout(cfg.dropout), nn.Linear(net.fc.in_features, spec.num_classes))
    return Classifier(features, head, cfg.arch)


BUILDERS = {
    "mlp": build_mlp,
    "tabular_mlp": build_mlp,
    "cnn": build_cnn,
    "resnet": build_resnet,
    "text_cnn": build_text,
    "text_bilstm": build_text,
    "resnet18": build_resnet18,
}


def build_model(cfg: ModelSection, spec: DataSpec, seed: int | None = None) -> Classifier:
    """The recipe's architecture sized for the data; ``seed`` makes the initial weights reproducible."""
    if cfg.arch not in ARCHS_FOR_KIND[spec.kind]:
        raise ModelError(f"model.arch: {cfg.arch!r} — not for {spec.kind} data; allowed: "
                         f"{', '.join(ARCHS_FOR_KIND[spec.kind])}")
    if seed is not None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return BUILDERS[cfg.arch](spec, cfg)
    return BUILDERS[cfg.arch](spec, cfg)


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: list[int]
    params: int


def summarize(model: nn.Module, input_shape: list[int], dtype: torch.dtype = torch.float32) -> list[LayerRow]:
    """One row per leaf layer: name, type, output shape for a batch of 2, parameter count."""
    rows: list[LayerRow] = []
    hooks = []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0 and name:
            def hook(mod, _inp, out, name=name):
                shape = list(out.shape) if isinstance(out, torch.Tensor) else []
                rows.append(LayerRow(name, type(mod).__name__, shape,
                                     sum(p.numel() for p in mod.parameters(recurse=False))))
            hooks.append(module.register_forward_hook(hook))
    device = next(model.parameters()).device
    sample = (torch.zeros((2, *input_shape), dtype=torch.long, device=device) if dtype == torch.long
              else torch.zeros((2, *input_shape), device=device))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(sample)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows
