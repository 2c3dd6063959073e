"""`ProbeSchedule`: which epoch ends the attribution probes explain, from seconds alone (no clock, no torch).

With ``every_n`` > 0: every n-th epoch and the last. With ``every_n`` = 0 the probes follow a grid,
dense at the start and then geometric (epoch e is on it when e + 1 ≥ ``spacing`` × (f + 1), f being the
epoch of the previous frame: 0, 1, 2, 3, 4, 6, 8, 11 for 12 epochs), and when the budget allows a frame
at every remaining epoch, every epoch. The last epoch always gets a frame: the trained model's.

Budget: training seconds T (the epochs' own time) are projected at each epoch end as the time so far
plus the epochs left at the fastest epoch yet, P (a first slow epoch does not inflate it). A frame
before the last is taken only when the seconds spent plus this frame plus the last frame, at the
estimated cost, fit in ``budget`` × P. The estimate is the lower median of the probe seconds measured
(one slow probe on a busy machine does not stop the timeline), and at least ``prior`` × the fastest
epoch (a cost in step with the epochs: a machine that got busier since the measurement slows both).
Hence, precisely (``test_schedule.py`` checks it):

    spent ≤ budget × max(T, P_max) + 2 × overrun,  or only the last frame was taken,

where P_max is the largest projection a frame was taken against (≤ T whenever no later epoch is
faster than the fastest before it) and overrun sums what each probe took beyond its estimate.
When not even the last frame fits, it is taken anyway and ``note`` says why there are so few frames.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field


@dataclass
class ProbeSchedule:
    """Decides probe epochs from epoch and probe durations: call `due`, then `record` when probing."""

    epochs: int
    budget: float = 0.05
    every_n: int = 0
    prior: float = 0.05  # a probe's cost as a share of an epoch, until one was measured
    spacing: float = 1.25
    trained: float = 0.0  # seconds of training so far
    spent: float = 0.0  # seconds of probes so far
    costs: list[float] = field(default_factory=list)  # probe seconds measured (before training too)
    fastest: float = float("inf")
    frames: list[int] = field(default_factory=list)
    estimates: list[float] = field(default_factory=list)  # the estimate each frame was taken with
    overrun: float = 0.0
    projected_max: float = 0.0
    note: str = ""

    def projected(self, epoch: int) -> float:
        """Training seconds at the end of the run, if the epochs left are as fast as the fastest yet."""
        return self.trained + max(0, self.epochs - 1 - epoch) * self.fastest

    def due(self, epoch: int, epoch_seconds: float) -> bool:
        """Record an epoch's training seconds; whether its end gets a frame."""
        self.trained += max(0.0, epoch_seconds)
        self.fastest = min(self.fastest, max(0.0, epoch_seconds))
        cost = max(statistics.median_low(self.costs), self.prior * self.fastest) if self.costs else \
            self.prior * self.fastest
        last = epoch + 1 >= self.epochs
        if self.frames and epoch <= self.frames[-1]:
            return False
        if self.every_n:  # a fixed rhythm: the budget does not apply
            return (last or (epoch + 1) % self.every_n == 0) and self._take(cost, self.trained)
        if last:
            if not self.frames and self.spent + cost > self.budget * self.trained and not self.note:
                self.note = (f"probes explained at the last epoch only: one probe takes about {cost:.2g} s, over "
                             f"the {self.budget:.0%} budget of {self.trained:.2g} s of training (interpret.budget)")
            return self._take(cost, self.trained)
        projection = self.projected(epoch)
        room = self.budget * projection - self.spent - cost  # what is left once the last frame is reserved
        if room < cost:
            if not self.frames and not self.note:
                self.note = (f"probes explained at the last epoch only: a probe takes about {cost:.2g} s and two do "
                             f"not fit in the {self.budget:.0%} budget of about {projection:.2g} s of training "
                             "(interpret.budget)")
            return False
        every_epoch = room >= cost * (self.epochs - 1 - epoch)  # a frame at each epoch left fits
        on_grid = not self.frames or epoch + 1 >= self.spacing * (self.frames[-1] + 1)
        if not (every_epoch or on_grid):
            return False
        self.note = ""
        return self._take(cost, projection)

    def _take(self, cost: float, projection: float) -> bool:
        self.estimates.append(cost)
        self.projected_max = max(self.projected_max, projection)
        return True

    def record(self, epoch: int, seconds: float) -> None:
        """A probe taken at ``epoch`` took ``seconds``: spend them and estimate the next probes with them."""
        self.frames.append(epoch)
        self.spent += seconds
        self.overrun += max(0.0, seconds - self.estimates[len(self.frames) - 1])
        self.costs.append(seconds)
