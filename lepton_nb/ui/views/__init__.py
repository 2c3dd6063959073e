"""Live and interactive views (anywidgets): the monitor, the confusion matrix, the attribution timeline."""
