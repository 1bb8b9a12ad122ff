"""The ML Engineer Handbook (UK): exercise tooling, Spark helper, Sphinx extension and CLI."""

__version__ = "0.1.0"
