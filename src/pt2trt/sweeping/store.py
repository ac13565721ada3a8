"""OUTDIR's layout: ``NAME/`` per model (convert's output, ``convert.log``, ``sweep.json``), ``.work/`` while a model
runs, and the sweep's own ``index.html``, ``results.json``, ``junit.xml``.

A model's folder appears whole or not at all: convert writes into ``.work/NAME/NAME/``; when the model is done its
record is written there and the folder is renamed into place (the old one, if any, is moved aside first and
deleted). A sweep killed half way leaves finished models complete and a ``.work/`` that the next run clears.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from pt2trt.errors import Pt2trtError
from pt2trt.files import publish, staging_dir
from pt2trt.sweeping.records import ERROR, RECORD, STATUSES, ModelResult

WORK = ".work"
OUTPUTS = ("index.html", "results.json", "junit.xml")


class OutputFolder:
    """OUTDIR of one sweep."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir

    def check(self, names: list[str], *, resume: bool, force: bool) -> None:
        """Refuse to replace an earlier sweep's files unless ``resume`` (keep them) or ``force`` (run again)."""
        out = self.outdir
        if out.exists() and not out.is_dir():
            raise Pt2trtError(f"output {out} is a file, not a directory", "Choose a directory with -o")
        if resume or force or not out.is_dir():
            return
        present = [n for n in OUTPUTS if (out / n).exists()] + [f"{n}/" for n in names if (out / n).exists()]
        if present:
            shown = ", ".join(present[:4]) + (f" and {len(present) - 4} more" if len(present) > 4 else "")
            raise Pt2trtError(
                f"{out} already holds {shown}",
                "Pass --resume to keep the models done there, --force to run every model again, or choose another -o",
            )

    def workroot(self, name: str) -> Path:
        """``.work/NAME/``: where a model's run writes ``NAME/`` until it is done."""
        return self.outdir / WORK / name

    def work(self, name: str) -> Path:
        """A fresh :meth:`workroot` for a model's run."""
        root = self.workroot(name)
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        return root

    def place(self, workroot: Path, result: ModelResult) -> None:
        """Write ``result`` into ``workroot/NAME/`` (a model's finished output), move that to ``OUTDIR/NAME/``."""
        try:
            self._place(workroot, result)
        except OSError as exc:
            raise Pt2trtError(
                f"cannot write {self.outdir / result.name}: {exc.strerror or exc}",
                "Check the free space and permissions of OUTDIR, then run again with --resume",
            ) from exc

    def _place(self, workroot: Path, result: ModelResult) -> None:
        folder = workroot / result.name
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{RECORD}.tmp"
        tmp.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, folder / RECORD)
        final = self.outdir / result.name
        if final.exists() or final.is_symlink():
            old = self.outdir / WORK / f"{result.name}.old"
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
            os.replace(folder, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(folder, final)
        shutil.rmtree(workroot, ignore_errors=True)

    def record(self, name: str) -> ModelResult | None:
        """The result recorded in ``OUTDIR/NAME/sweep.json``, None when absent or unreadable."""
        try:
            data = json.loads((self.outdir / name / RECORD).read_text(encoding="utf-8"))
            result = ModelResult.from_dict(data)
        except (OSError, ValueError, TypeError):
            return None
        return result if result.status in STATUSES else None

    def resumable(self, name: str, fingerprint: str) -> ModelResult | None:
        """A finished result to keep on ``--resume``: same options, and not an error (errors are run again)."""
        result = self.record(name)
        if result is None or result.fingerprint != fingerprint or result.status == ERROR:
            return None
        return result

    def finish(self) -> None:
        shutil.rmtree(self.outdir / WORK, ignore_errors=True)

    def write_text(self, name: str, text: str) -> Path:
        """``OUTDIR/NAME`` written atomically (replaced: the sweep's own outputs are rewritten as models finish)."""
        path = self.outdir / name
        with staging_dir(path) as tmp:
            (tmp / name).write_text(text, encoding="utf-8")
            publish(tmp / name, path, replace=True)
        return path
