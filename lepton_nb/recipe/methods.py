"""The attribution methods lepton_nb offers: names, data kinds, requirements and parameter metadata.

Pure data (no captum import), so the recipe can validate names and forms can be generated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .ops import Param

MethodParam = Param  # a method's parameter: range and help, as an augmentation op's


@dataclass(frozen=True)
class Method:
    label: str
    help: str
    kinds: tuple[str, ...]  # image / tabular / text
    needs: str | None = None  # a capability of the architecture (`archs.Arch`): conv, or embedding
    params: dict[str, MethodParam] = field(default_factory=dict)
    delta: bool = False  # returns a convergence delta (completeness check)
    baseline: bool = False  # compares against a baseline input


STEPS = MethodParam(32, 4, 500, "integration steps (more: more exact, slower)", integer=True, label="steps")

METHODS: dict[str, Method] = {
    "integrated_gradients": Method(
        "Integrated Gradients", "Gradients averaged along the path from a baseline to the input; the "
        "attributions add up to f(input) - f(baseline) (the delta measures how exactly).",
        ("image", "tabular"), params={"n_steps": STEPS}, delta=True, baseline=True),
    "saliency": Method(
        "Saliency", "Absolute gradient of the class score: which inputs the score is most sensitive to.",
        ("image", "tabular")),
    "smoothgrad": Method(
        "SmoothGrad", "Saliency averaged over noisy copies of the input (NoiseTunnel): less speckled maps.",
        ("image", "tabular"),
        params={"nt_samples": MethodParam(16, 2, 200, "noisy copies", integer=True, label="noisy copies"),
                "stdev": MethodParam(0.15, 0.0, 2.0, "noise standard deviation (model-input units)",
                                     label="noise level")}),
    "gradient_shap": Method(
        "GradientSHAP", "Expected gradients over random points between baselines and noisy inputs.",
        ("image", "tabular"),
        params={"n_samples": MethodParam(16, 2, 200, "random samples", integer=True, label="samples"),
                "stdev": MethodParam(0.0, 0.0, 2.0, "noise added to the inputs", label="noise level")},
        delta=True, baseline=True),
    "deeplift": Method(
        "DeepLift", "Differences from the baseline propagated back through the layers (one pass).",
        ("image", "tabular"), delta=True, baseline=True),
    "occlusion": Method(
        "Occlusion", "How much the class score drops when a patch is replaced by the baseline.",
        ("image", "tabular"),
        params={"window": MethodParam(3, 1, 32, "patch side (pixels; features for tables)", integer=True,
                                      label="patch size"),
                "stride": MethodParam(1, 1, 16, "patch step", integer=True, label="patch step")}, baseline=True),
    "grad_cam": Method(
        "Grad-CAM", "Class-weighted activations of the last convolution layer, upsampled to the image.",
        ("image",), needs="conv"),
    "feature_ablation": Method(
        "Feature ablation", "How much the class score changes when each feature is set to the baseline.",
        ("tabular",), baseline=True),
    "layer_integrated_gradients": Method(
        "Layer Integrated Gradients (embedding)", "Integrated Gradients on the word embeddings, summed per "
        "word: which words pushed the prediction.", ("text",), needs="embedding", params={"n_steps": STEPS},
        delta=True),
}

# reference inputs of the methods that compare against one, and the data kinds each fits
BASELINES: dict[str, tuple[str, ...]] = {"zeros": ("image", "tabular", "text"), "blur": ("image",),
                                         "mean": ("image", "tabular", "text")}


def methods_for_kind(kind: str) -> list[str]:
    return [name for name, m in METHODS.items() if kind in m.kinds]


DEFAULT_METHOD = {"image": "integrated_gradients", "tabular": "integrated_gradients",
                  "text": "layer_integrated_gradients"}  # interpret.method auto, per data kind


def default_method(kind: str) -> str:
    return DEFAULT_METHOD.get(kind, "integrated_gradients")


def baselines_for(kind: str) -> list[str]:
    return [name for name, kinds in BASELINES.items() if kind in kinds]
