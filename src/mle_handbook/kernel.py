"""The project's Jupyter kernel spec, so JupyterLab runs notebooks with the project's environment."""

from __future__ import annotations

import sys
from pathlib import Path

KERNEL_NAME = "mle-handbook"
DISPLAY_NAME = "Python (ML Engineer Handbook)"


def install_kernel(prefix: str | Path | None = None) -> Path:
    """Install the kernel spec into the environment's prefix (``.venv/share/jupyter/kernels``)."""
    from ipykernel.kernelspec import install

    return Path(
        install(
            kernel_name=KERNEL_NAME,
            display_name=DISPLAY_NAME,
            prefix=str(prefix or sys.prefix),
        )
    )
