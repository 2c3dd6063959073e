"""What a run leaves: its folder (`RunFolder`, the only code that reads or writes one), the `Run`,
`load_run` to rebuild it from the folder, the `Predictor` on raw inputs, and the HTML report."""

from .load import as_predictor, load_run, model_from_checkpoint, run_dir_of
from .predictor import InferenceModel, Normalize, Predictor, Preprocessor
from .run import Run
from .run_folder import CHECKPOINT_CHOICES, RunFolder, check_run_name, checkpoint_file, folder_of

__all__ = ["CHECKPOINT_CHOICES", "InferenceModel", "Normalize", "Predictor", "Preprocessor", "Run", "RunFolder",
           "as_predictor", "check_run_name", "checkpoint_file", "folder_of", "load_run", "model_from_checkpoint",
           "run_dir_of"]
