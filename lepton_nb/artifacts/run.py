"""A finished (or stopped, diverged, failed) run: recipe, history, model, data, test evaluation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ..data import DataBundle, DataSpec, NormStats, build_data
from ..errors import UsageError
from ..evaluation import EvalResult, evaluate_model
from ..recipe import Recipe
from ..training.history import History
from .predictor import InferenceModel, Predictor, Preprocessor, device_of
from .run_folder import RunFolder


@dataclass
class Run:
    """A finished (or stopped, diverged, failed) training run and everything it produced.

    ``model`` holds the final weights, or the best ones when the run diverged or stopped early, in eval mode:
    ready for inference (batch-norm running statistics, no dropout) however the run was made.
    ``preprocessor`` turns raw inputs into model inputs (see `predict`), so a run can predict even
    after its data was released. `lepton_nb.load_run` rebuilds a Run from its folder.
    """

    recipe: Recipe
    dir: Path | None
    history: History
    model: nn.Module | None
    data: DataBundle | None
    spec: DataSpec | None
    norm: NormStats | None
    status: str
    message: str = ""
    evaluation: EvalResult | None = None
    seconds: float = 0.0
    started: str = ""
    best_epoch: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    preprocessor: Preprocessor | None = None

    def __post_init__(self) -> None:
        if self.model is not None:
            self.model.eval()  # a forward pass of the user's must not use batch statistics or dropout

    @classmethod
    def logged(cls, recipe: Recipe, folder: Path | None, history: History, status: str, message: str) -> Run:
        """What a run that failed before it finished leaves: its recipe, folder and what it logged."""
        return cls(recipe, folder, history, None, None, None, None, status, message, started="")

    @property
    def name(self) -> str:
        return self.dir.name if self.dir is not None else self.recipe.name

    @property
    def metrics(self) -> dict[str, float]:
        """Test metrics (with ``loss``); empty when the run has no test split or never evaluated."""
        if self.evaluation is None:
            return dict(self.extras.get("test_metrics", {}))  # a run loaded from its folder
        return {"loss": self.evaluation.loss, **self.evaluation.metrics}

    @property
    def epochs_done(self) -> int:
        return len(self.history.epochs)

    def evaluate(self, split: str = "test", data: DataBundle | None = None,
                 metrics: Sequence[str] | None = None) -> EvalResult:
        """sklearn metrics on a split (a loaded run rebuilds its data from the recipe first)."""
        model, data = self.model_space(data)
        return evaluate_model(model, data, split, list(metrics or self.recipe.evaluate.metrics))

    def model_space(self, data: DataBundle | None = None) -> tuple[nn.Module, DataBundle]:
        """The classifier (taking prepared, normalized inputs) and the data it was trained on."""
        if self.model is None:
            raise UsageError("run", self.name, "this run's model was released; allowed: reload it with "
                             "lnb.load_run(run.dir)")
        return self.model, data if data is not None else self.load_data()

    def load_data(self) -> DataBundle:
        """The run's data; rebuilt from the recipe (same seeded split) when it is not in memory."""
        if self.data is None:
            self.data = build_data(self.recipe)
        return self.data

    def predictor(self) -> Predictor:
        """This run's model as a `Predictor` of raw inputs (images, sentences, table rows)."""
        if self.model is None:
            raise UsageError("run", self.name, "this run's model was released; allowed: reload it with "
                             "lnb.load_run(run.dir)")
        if self.preprocessor is None:
            self.preprocessor = Preprocessor.from_bundle(self.load_data(), self.recipe.data.max_len)
        model = InferenceModel(self.model, self.norm or self.load_data().norm, self.preprocessor.spec)
        return Predictor(model.to(device_of(self.model)), self.preprocessor, name=self.name, recipe=self.recipe,
                         data=self.data)

    def predict(self, inputs: Any) -> list[str]:
        """Class names predicted for raw inputs, e.g. uint8 images, sentences or a DataFrame of rows."""
        return self.predictor().predict(inputs)

    def predict_proba(self, inputs: Any) -> Any:
        """Class probabilities [N, classes] (numpy) for raw inputs."""
        return self.predictor().predict_proba(inputs)

    def report(self, path: str | Path | None = None) -> Path:
        """Write the self-contained HTML report (default: ``run.dir/report.html``)."""
        if path is None:
            if self.dir is None:
                raise UsageError("path", None, "this run has no folder; allowed: a file path for the report")
            path = RunFolder(self.dir).report_path
        from .report import write_report  # matplotlib: loaded by the processes that write reports only

        return write_report(self, Path(path))

    def release(self, keep_model: bool = False) -> None:
        """Free the data (and the model unless kept): a kernel with many runs stays lean."""
        if self.data is not None:
            self.data.release()
        self.data = None
        if not keep_model:
            self.model = None

    def summary_row(self) -> dict[str, Any]:
        t = self.recipe.train
        row = {"run": self.name, "status": self.status, "source": self.recipe.data.source,
               "arch": self.recipe.model.arch, "optimizer": t.optimizer, "lr": t.lr, "batch": t.batch_size,
               "epochs": f"{self.epochs_done}/{t.epochs}", "time": f"{self.seconds:.1f} s"}
        row.update({k: round(v, 4) for k, v in self.metrics.items()})
        return row

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"Run({self.name!r}, status={self.status!r}, {shown})"
