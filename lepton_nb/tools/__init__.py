"""Tools for finished runs: export (ONNX/TorchScript), compression (quantize/prune), ensembles,
the torchrun command line, and the classroom exercises' self-checks."""

from . import exercises
from .compress import OptimizeResult, optimize, prune, quantize
from .ensemble import EnsembleResult, ensemble
from .export import ExportResult, export
from .launch import LaunchCommand, launch_command

__all__ = ["EnsembleResult", "ExportResult", "LaunchCommand", "OptimizeResult", "ensemble", "exercises", "export",
           "launch_command", "optimize", "prune", "quantize"]
