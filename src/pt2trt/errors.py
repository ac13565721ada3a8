"""The one exception type for user errors.

Anything the user can fix (a missing file, a malformed shape, a model that cannot be exported) is raised as a
:class:`Pt2trtError` whose message says what is wrong and what to do next. The CLI prints it as a single line and
exits non-zero. Everything else is a bug in pt2trt and keeps its traceback.
"""

from __future__ import annotations


class Pt2trtError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code: int = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message.rstrip(".")
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = self.message + "."
        return f"{text} {self.hint}" if self.hint else text


class UsageError(Pt2trtError):
    """A malformed argument (exit code 2, like click's own usage errors)."""

    exit_code = 2


class CheckFailed(Pt2trtError):
    """A check ran and its verdict is "no" (outputs differ, models disagree, a step failed): exit code 1.

    The command has already printed its report, verdict included, so the CLI only sets the exit status. Raised
    instead of exiting, so that code calling a command's function gets the verdict as an exception with its reason.
    """

    exit_code = 1
