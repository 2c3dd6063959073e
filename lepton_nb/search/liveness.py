"""Trials of dead processes: failed by whoever looks, never shown as running.

Every process running a trial writes a heartbeat to the study's database (Optuna's RDB heartbeat). A
RUNNING trial whose heartbeat is older than the grace period belongs to a process that was killed or a
machine that went down; `optuna.storages.fail_stale_trials` marks it failed, but only when someone calls
it. Optuna calls it when a process starts its next trial; here it is also called by every reader (`Study`,
the Search tab) and at the end of a search (`settle`), which waits out the grace period for trials of other
processes still marked running, so that a report written at the end never lists a dead trial as running.
"""

from __future__ import annotations

import os
import time
import warnings

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

from ..errors import UsageError

HEARTBEAT_S = 5  # a running trial's process writes a heartbeat this often
GRACE_S = 20  # a RUNNING trial without a heartbeat for this long belongs to a dead process: it is marked failed
ENV_HEARTBEAT, ENV_GRACE = "LEPTON_NB_SEARCH_HEARTBEAT_S", "LEPTON_NB_SEARCH_GRACE_S"


def _seconds(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 86_400:
        raise UsageError(name, text, "allowed: a whole number of seconds from 1 to 86400 (environment variable)")
    return int(text)


def heartbeat_s() -> int:
    """How often a running trial writes its heartbeat (``LEPTON_NB_SEARCH_HEARTBEAT_S``, default 5)."""
    return _seconds(ENV_HEARTBEAT, HEARTBEAT_S)


def grace_s() -> int:
    """After how long without a heartbeat a running trial is failed (``LEPTON_NB_SEARCH_GRACE_S``, default 20)."""
    return max(_seconds(ENV_GRACE, GRACE_S), heartbeat_s() + 1)


def stale_message(grace: int | None = None) -> str:
    """What a failed trial of a dead process says (it has no message of its own)."""
    return (f"no heartbeat for {grace or grace_s()} s: its process stopped mid-trial (killed, or its machine "
            "went down); marked failed")


def fail_stale(study: optuna.Study) -> None:
    """Fail the RUNNING trials whose heartbeat is older than the grace period (any process may do it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)


def settle(study: optuna.Study, poll: float = 1.0) -> int:
    """Before a search's files are written: wait (at most the grace period and two heartbeats) until no trial of
    another process is running, failing those whose heartbeat stopped. Returns the trials still running (those
    of live processes, which keep their heartbeat)."""
    deadline = time.monotonic() + grace_s() + 2 * heartbeat_s()
    while True:
        fail_stale(study)
        running = len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)))
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(poll)
