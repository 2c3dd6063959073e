"""One file per tab of the studio; each panel receives a `StudioContext`."""
