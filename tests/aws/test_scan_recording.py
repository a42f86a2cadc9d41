"""A scan's history record opens before collection: Ctrl-C mid-scan leaves it incomplete."""

from __future__ import annotations

from pathlib import Path

import pytest

from controlmap.cli.scan import FinishOptions, recording
from controlmap.settings import Settings
from controlmap.store import open_store
from controlmap.store.queries import list_scans


def _states(url: str) -> list[tuple[str, str]]:
    store = open_store(url)
    try:
        return [(row.state, row.note) for row in list_scans(store)]
    finally:
        store.close()


def test_interrupted_scan_is_marked_incomplete_and_earlier_scans_stay(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cm.db'}"
    options = FinishOptions(store=True, db=url)
    with recording(options, Settings(), "aws") as recorder:
        assert recorder is not None  # finished without recording: incomplete too
    with pytest.raises(KeyboardInterrupt), recording(options, Settings(), "aws") as recorder:
        raise KeyboardInterrupt
    states = _states(url)
    assert len(states) == 2
    assert all(state == "incomplete" for state, _ in states)
    assert any("KeyboardInterrupt" in note for _, note in states)


def test_no_store_opens_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cm.db'}"
    with recording(FinishOptions(store=False, db=url), Settings(), "aws") as recorder:
        assert recorder is None
    assert not (tmp_path / "cm.db").exists()


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_terminated_scan_is_marked_incomplete(tmp_path: Path, name: str) -> None:
    """`kill`, a CI job's cancel or time limit (SIGTERM) and a closed terminal (SIGHUP) used to
    kill the process outright, leaving the scan `running` for ever; now they end it like Ctrl-C."""
    import os
    import signal
    import time

    from controlmap.interrupts import Terminated

    sig = getattr(signal, name, None)
    if sig is None:
        pytest.skip(f"no {name} on this platform")
    before = signal.getsignal(sig)
    url = f"sqlite:///{tmp_path / 'cm.db'}"
    with pytest.raises(Terminated), recording(FinishOptions(store=True, db=url), Settings(), "aws"):
        os.kill(os.getpid(), sig)
        time.sleep(5)  # the handler raises here, in the main thread
    assert _states(url) == [("incomplete", "interrupted: Terminated")]
    assert signal.getsignal(sig) is before  # the previous handler is back after the scan
