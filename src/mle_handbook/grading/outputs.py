"""What comes back from a kernel for one request, and the output cap every message counts against.

:class:`Outputs` counts every IOPub message of one kernel against ``Limits.max_output_chars``
(streams by their text, anything else, display data of any MIME type, comms and errors, by its
content's size) and keeps, per request, only ``Limits.output_chars`` of it for feedback. Messages
larger than the cap are never read at all (see :class:`.kernel.Kernel`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..exercises.execute import strip_ansi
from .sandbox import Limits

#: The longest exception value and traceback line kept from a reply (the rest is cut).
_TEXT_LIMIT = 20_000


@dataclass
class Reply:
    """What came back from one execute request."""

    status: str  # "ok", "error", "timeout", "dead", "output-limit"
    ename: str = ""
    evalue: str = ""
    traceback: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    user_expressions: dict = field(default_factory=dict)
    execution_count: int | None = None
    #: An ``error`` output was published (a traceback the student sees in Jupyter).
    error_shown: bool = False
    #: The kernel was killed (it would not stop after a timeout, or produced too much output).
    killed: bool = False
    exit_code: int | None = None
    #: The kernel was already dead when this request was to be sent (the previous cell killed it).
    dead_before: bool = False

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


class Outputs:
    """One kernel's output: the running total against the cap, and what each reply keeps."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.total = 0

    def keep(self, reply: Reply, kept: dict, output: dict, size: int) -> None:
        """Add one output to the reply, within the per-cell character budget."""
        budget = self.limits.output_chars - kept["chars"]
        kept["chars"] += size
        if output["output_type"] == "stream":
            text = output["text"]
            if budget <= 0:
                kept["truncated"] = True
                return
            if len(text) > budget:
                text, kept["truncated"] = text[:budget], True
            last = reply.outputs[-1] if reply.outputs else None
            if last and last["output_type"] == "stream" and last["name"] == output["name"]:
                last["text"] += text
            else:
                reply.outputs.append({**output, "text": text})
            return
        if size > budget:
            kept["truncated"] = True
            return
        reply.outputs.append(output)

    def on_iopub(self, msg: dict, msg_id: str, reply: Reply, kept: dict) -> bool:
        """Handle one IOPub message; True when it says the request is finished.

        Every message counts against the kernel's output cap: streams by their text, everything
        else (display data of any MIME type, comms, errors) by its content's size.
        """
        content = msg.get("content", {})
        if not isinstance(content, dict):
            content = {}
        kind = msg.get("msg_type")
        if kind == "stream":
            size = _size(content.get("text", ""))
        else:
            buffers = msg.get("buffers")
            size = _size(content) + sum(_size(b) for b in buffers if isinstance(buffers, list))
        self.total += size
        if parent_id(msg) != msg_id:
            return False
        if kind == "status":
            return content.get("execution_state") == "idle"
        if kind == "stream":
            output = {
                "output_type": "stream",
                "name": str(content.get("name", "stdout")),
                "text": str(content.get("text", "")),
            }
            self.keep(reply, kept, output, size)
        elif kind in ("display_data", "execute_result"):
            output = {
                "output_type": kind,
                "data": content.get("data", {}),
                "metadata": content.get("metadata", {}),
            }
            self.keep(reply, kept, output, size)
        elif kind == "error":
            reply.error_shown = True
            reply.ename = cut(content.get("ename", "Error"), 200)
            reply.evalue = cut(content.get("evalue", ""))
            lines = content.get("traceback")
            reply.traceback = [
                cut(line) for line in (lines if isinstance(lines, list) else [])[-200:]
            ]
        elif kind == "clear_output":
            reply.outputs.clear()
            kept["chars"] = 0
        return False
