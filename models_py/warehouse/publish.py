"""Publishing a run: the new warehouse and its report put in place as one step.

Both new files are complete before anything is renamed: the report was rendered from the
finished build, and the build is checkpointed and closed. The switch is then two renames in one
folder, report first, guarded by a journal:

1. `<warehouse>.publishing` is written (atomically) naming the staged files, and the old report
   is kept as `<report>.previous` (a hard link, so nothing is copied).
2. The staged report is renamed over the report (or, with no new report, the old one is
   removed: it describes the old warehouse).
3. The build is renamed over the warehouse.
4. The journal and the kept report are removed.

What that guarantees, for the pair at the published names:

- A failure (an exception: a report path that became a folder, a full disk, Ctrl-C) rolls back
  what was done and raises `NothingPublished`: the old pair is in place. Only if that roll-back
  fails as well is a mix left, and `MixedPublish` says so.
- A kill (SIGKILL, power loss) before step 1 leaves the old pair, and after step 3 the new one.
  A kill inside steps 1–4 leaves the journal; the next run, under the build lock and before
  anything else, finishes the switch (`finish_interrupted`): the staged files were complete
  when the journal was written, so the result is the new pair. Between such a kill and that run
  the journal beside the warehouse marks the folder as mid-switch.

A program holding the warehouse open for writing (DuckDB's own lock) would keep writing to the
replaced file and lose its work, so publishing is refused while one does.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import suppress
from pathlib import Path

from models_py.errors import ReelRecError
from models_py.warehouse import paths
from models_py.warehouse.file import connect, write_lock_holder

# Noted on an exception raised once the new warehouse is in place: "untouched" is then false.
PUBLISH_BEGAN = "reelrec: publishing had begun"


class PublishError(ReelRecError):
    """Publishing failed; the subclass says which pair is in place."""


class NothingPublished(PublishError):
    """The previous warehouse and report are in place, as they were."""


class MixedPublish(PublishError):
    """The switch failed half-way and could not be rolled back: the pair disagrees."""


def journal_path(target: Path) -> Path:
    return target.with_name(target.name + ".publishing")


def previous_path(report: Path) -> Path:
    return report.with_name(report.name + ".previous")


def _keep_previous(report: Path) -> Path | None:
    """A second name for the old report, to restore it from if the warehouse rename fails."""
    if not report.is_file():
        return None
    kept = previous_path(report)
    kept.unlink(missing_ok=True)
    try:
        os.link(report, kept)
    except OSError:  # no hard links on this filesystem: a copy, complete before it is named
        with paths.replacing(kept) as copy:
            shutil.copy2(report, copy)
    return kept


def _switch(
    build: Path, target: Path, report: Path, staged: Path | None, kept: Path | None
) -> None:
    """Steps 2 and 3, from wherever a killed run left them. On a failure step 2 is undone and
    the failure raised again, or `MixedPublish` raised if the undo fails too."""
    report_switched = False
    try:
        if staged is None:
            report.unlink(missing_ok=True)
        elif staged.exists():
            os.replace(staged, report)
        report_switched = True
        if build.exists():
            os.replace(build, target)
    except BaseException as exc:
        if not report_switched:
            raise
        try:
            if kept is None:
                report.unlink(missing_ok=True)
            else:
                os.replace(kept, report)
        except OSError as undo:
            raise MixedPublish(
                f"the new report is at {report}, but the new warehouse could not be put at "
                f"{target} ({_reason(exc)}) and the old report could not be restored "
                f"({_reason(undo)}): the report does not describe the warehouse; run again"
            ) from exc
        raise


def _write_journal(target: Path, build: Path, report: Path, staged: Path | None) -> Path:
    journal = journal_path(target)
    entries = {"build": build.name, "report": report.name, "staged_report": staged and staged.name}
    paths.write_text_replacing(journal, json.dumps(entries))
    return journal


def _refuse_if_write_locked(target: Path) -> None:
    holder = write_lock_holder(target)
    if holder:
        raise NothingPublished(
            f"{target} is open for writing by {holder}; the new warehouse was not published "
            "(that program would keep writing to the replaced file and lose its work): close "
            "it and run again. The previous warehouse and report are unchanged"
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def _settle(target: Path, journal: Path | None, kept: Path | None) -> None:
    """Step 4: the switch is done (or undone); what it kept aside goes. Best effort: the pair
    is already what it will be, so a failure here must not be reported as a failed publish
    (a journal left behind is settled by the next run, finding nothing left to move)."""
    paths.fsync_folder(target.parent)
    with suppress(OSError):
        for leftover in (journal, kept):
            if leftover is not None:
                leftover.unlink(missing_ok=True)


def publish(build: Path, target: Path, report: Path | None, staged_report: Path | None) -> None:
    """Put the finished `build` at `target` and `staged_report` at `report` as one step (see
    the module's docstring); `staged_report=None` removes the old report. `report=None`: no
    report is kept in step with this warehouse (the benchmarks).

    Raises `NothingPublished` or `MixedPublish` as above; anything raised once the new pair is
    in place (an interrupt during the clean-up) carries the `PUBLISH_BEGAN` note."""
    with connect(build) as con:
        con.execute("checkpoint")  # fold the WAL in: the published file must stand alone
    build.with_name(build.name + ".wal").unlink(missing_ok=True)
    _refuse_if_write_locked(target)
    journal = kept = None
    if report is None:
        os.replace(build, target)
    else:
        journal = _write_journal(target, build, report, staged_report)
        try:
            kept = _keep_previous(report)
            _switch(build, target, report, staged_report, kept)
        except MixedPublish:
            _settle(target, journal, kept)
            raise
        except BaseException as exc:
            _settle(target, journal, kept)
            if not isinstance(exc, Exception):
                raise  # Ctrl-C: rolled back, and still an interruption
            raise NothingPublished(
                f"the new warehouse and report could not be put at {target} and {report} "
                f"({_reason(exc)}); nothing was published: the previous warehouse and report "
                "are unchanged"
            ) from exc
    try:
        _settle(target, journal, kept)
        with suppress(OSError):
            target.with_name(target.name + ".wal").unlink(missing_ok=True)
    except BaseException as exc:
        exc.add_note(PUBLISH_BEGAN)
        raise


def _journal_names(journal: Path) -> tuple[str, str, str | None] | None:
    """(build, report, staged report) as the journal names them; None if it is not readable.
    Only plain names count: a journal never moves a file from or to another folder."""
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
        names = (entries["build"], entries["report"], entries["staged_report"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    plain = [isinstance(n, str) and n not in ("", ".", "..") and Path(n).name == n for n in names]
    return names if plain[0] and plain[1] and (names[2] is None or plain[2]) else None


def finish_interrupted(target: Path) -> str | None:
    """Finish the switch a killed run left half-done (its journal is still there). Call under
    the build lock, before anything else touches the staged files. Returns what was done, for
    the run to say, or None when there was nothing to do."""
    journal = journal_path(target)
    if not journal.exists():
        return None
    names = _journal_names(journal)
    if names is None:
        journal.unlink(missing_ok=True)
        return f"removed {journal}, which was not a readable publish journal"
    folder = target.parent
    build, report = folder / names[0], folder / names[1]
    staged = folder / names[2] if names[2] else None
    kept = previous_path(report) if previous_path(report).is_file() else None
    try:
        _switch(build, target, report, staged, kept)
    except (OSError, MixedPublish) as exc:
        _settle(target, journal, kept)
        return f"could not finish publishing the run interrupted at {target}: {_reason(exc)}"
    _settle(target, journal, kept)
    return f"finished publishing the run that was interrupted while switching {target}"
