"""The run's summary under the studio: kept current, honest after a page reload, a widget in a dashboard."""

import pytest

import lepton_nb.ui.display as display_module
import lepton_nb.ui.snapshot as snapshot_module
from lepton_nb.ui.assets import asset
from lepton_nb.ui.snapshot import RELOAD_NOTE, REOPENED_NOTE, STALE_NOTE
from tests.conftest import HANG_S


class Handle:
    def __init__(self, html):
        self.shown = [html]

    def update(self, obj):
        self.shown.append(obj.data)


def fake_display(monkeypatch):
    handles = []

    def display(obj, display_id=False):
        if display_id:
            handles.append(Handle(obj.data))
            return handles[-1]
        return None
    monkeypatch.setattr(snapshot_module, "display", display)
    monkeypatch.setattr(display_module, "display", lambda obj: None)  # the studio's widgets: not under test
    return handles


def studio_outputs(monkeypatch):
    """What the studio's own display shows, in order (its widgets, then its notes)."""
    shown = []
    monkeypatch.setattr(display_module, "display", shown.append)
    return shown


def hello(studio, page):
    studio.monitor._on_msg(studio.monitor, {"type": "hello", "page": page}, [])


def run(studio):
    assert studio.start(force=True) and studio.wait(HANG_S)  # force: a click, as in a dashboard
    return studio.run


def test_after_a_reload_the_monitor_says_the_summary_is_stale_until_snapshot_shows_it_anew(studio, monkeypatch):
    handles = fake_display(monkeypatch)
    shown = studio_outputs(monkeypatch)
    studio._ipython_display_()  # the studio and, under it, the summary's placeholder
    # under the studio: what a notebook reopened without this kernel says in place of "model not found"; the
    # stylesheet a live studio brings hides it
    assert shown[0] is studio.widget and shown[1].data == REOPENED_NOTE
    assert ".lnb-reopened-note { display: none" in studio.monitor._css
    assert ".lnb-reopened-note { display: none" in asset("studio.css").read_text()
    hello(studio, "first-page")
    hello(studio, "first-page")  # a second view (or a lost message) in the same page is no reload
    first = run(studio)
    assert first.name in handles[0].shown[-1] and STALE_NOTE not in studio.monitor.message

    hello(studio, "reloaded-page")  # the browser reloaded: Jupyter forgot the placeholder's display id
    second = run(studio)
    assert studio.monitor.message == f"{second.status} · {STALE_NOTE}"  # said where the user looks
    assert "studio.snapshot()" in studio.monitor.message

    studio.snapshot()  # in a new cell of the reloaded page
    assert second.name in handles[1].shown[0]  # shows the last run at once
    assert studio.monitor.message == second.status  # the note is done with
    third = run(studio)
    assert STALE_NOTE not in studio.monitor.message
    assert third.name in handles[1].shown[-1] and third.name in handles[0].shown[-1]
    assert studio.snapshots.html == handles[1].shown[-1]


def test_a_reload_that_arrives_after_the_run_ended_says_what_the_saved_summary_may_lack(studio, monkeypatch):
    fake_display(monkeypatch)
    studio._ipython_display_()
    hello(studio, "before-the-end")
    done = run(studio)  # its summary went to the page that was being reloaded
    assert "studio.snapshot()" not in studio.monitor.message
    hello(studio, "after-the-end")  # the reloaded page said hello only after the run had ended
    assert studio.monitor.message == f"{done.status} · {RELOAD_NOTE.format(name=done.name)}"
    hello(studio, "after-the-end")  # the same page again: nothing new
    studio.snapshot()  # the summary is now in the current page: a further reload of a kept-current page...
    assert studio.monitor.message == done.status  # (the note is done with)
    hello(studio, "third-page")  # ...still cannot be checked by the kernel, so it says it again
    assert "studio.snapshot()" in studio.monitor.message


def test_in_a_dashboard_the_summary_is_a_widget_that_updates(studio, monkeypatch):
    handles = fake_display(monkeypatch)
    shown = studio_outputs(monkeypatch)
    monkeypatch.setenv("VOILA_KERNEL_ID", "k")
    studio._ipython_display_()
    assert handles == [] and studio.snapshots.widget is not None
    assert shown == [studio.widget]  # a dashboard is never a saved notebook reopened: no note
    hello(studio, "dashboard")
    done = run(studio)
    assert done.name in studio.snapshots.widget.value and "data:image/png;base64" in studio.snapshots.widget.value
    hello(studio, "dashboard-reloaded")  # a reloaded dashboard shows the widget again: nothing is stale
    run(studio)
    assert STALE_NOTE not in studio.monitor.message


def test_in_marimo_a_reloaded_page_draws_the_studio_as_it_is_so_nothing_is_stale(studio, monkeypatch):
    pytest.importorskip("marimo")
    fake_display(monkeypatch)
    shown = studio._display_()  # what marimo draws: the bridge carrying the whole studio
    assert shown.widget is studio._bridge
    hello(studio, "first-page")
    run(studio)
    hello(studio, "reloaded-page")  # the reloaded page asks the bridge for the widgets as they are now
    run(studio)
    assert STALE_NOTE not in studio.monitor.message
