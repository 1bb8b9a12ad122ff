"""What comes back from a kernel for one request, and the size every message counts against the
output cap.

:func:`size` is what an IOPub message counts against ``Limits.max_output_chars`` (streams by their
text, anything else, display data of any MIME type, comms and errors, by its content's size).
Messages larger than the cap are never read at all (see :class:`.kernel.Kernel`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..exercises.execute import strip_ansi

#: The longest exception value and traceback line kept from a reply (the rest is cut).
_TEXT_LIMIT = 20_000


@dataclass
class Reply:
    """What came back from one execute request."""

    status: str  # "ok", "error", "timeout", "dead", "output-limit"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    user_expressions: dict = field(default_factory=dict)
    execution_count: int | None = None
    #: An ``error`` output was published (a traceback the student sees in Jupyter).
    error_shown: bool = False
    #: The kernel was killed (it would not stop after a timeout, or produced too much output).
    killed: bool = False
    exit_code: int | None = None
    #: The kernel was already dead when this request was to be sent (the previous cell killed it).
    dead_before: bool = False

    def take_error(self, content: dict, *, keep: bool = False) -> None:
        """An error's name, value and traceback (cut to size); with ``keep``, only those not set."""
        lines = content.get("traceback")
        lines = [cut(line) for line in (lines if isinstance(lines, list) else [])[-200:]]
        self.ename = (keep and self.ename) or cut(content.get("ename", "Error"), 200)
        self.evalue = (keep and self.evalue) or cut(content.get("evalue", ""))
        self.traceback = (keep and self.traceback) or lines

    @property
    def plain_traceback(self) -> str:
        return strip_ansi("\n".join(self.traceback))


def _size(value) -> int:
    """Characters an output value takes, whatever its type (text, bytes, JSON, a list of lines)."""
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    try:
        return len(json.dumps(value, default=str))
    except (TypeError, ValueError, RecursionError):
        return len(str(value))


def cut(text, limit: int = _TEXT_LIMIT) -> str:
    text = str(text)
    return text if len(text) <= limit else text[:limit] + "…"


def plain_text(expression, default: str = "") -> str:
    """The ``text/plain`` of a user expression's result (``default`` when it is not well formed)."""
    data = expression.get("data") if isinstance(expression, dict) else None
    value = data.get("text/plain") if isinstance(data, dict) else None
    return value if isinstance(value, str) else default


def parent_id(msg) -> str | None:
    """The id of the request a message answers (None for one that is not well formed)."""
    parent = msg.get("parent_header") if isinstance(msg, dict) else None
    value = parent.get("msg_id") if isinstance(parent, dict) else None
    return value if isinstance(value, str) else None


def size(msg: dict) -> int:
    """What an IOPub message counts against the output cap."""
    content = msg.get("content")
    if msg.get("msg_type") == "stream" and isinstance(content, dict):
        return _size(content.get("text", ""))
    buffers = msg.get("buffers")
    return _size(content) + sum(_size(b) for b in buffers if isinstance(buffers, list))


def on_iopub(msg: dict, msg_id: str, reply: Reply) -> bool:
    """Take what ``reply`` needs from an IOPub message; True when it says the request is finished."""
    content = msg.get("content")
    if parent_id(msg) != msg_id or not isinstance(content, dict):
        return False
    if msg.get("msg_type") == "status":
        return content.get("execution_state") == "idle"
    if msg.get("msg_type") == "error":
        reply.error_shown = True
        reply.take_error(content)
    return False
