"""The ML Engineer Handbook (UK): exercise tooling, Spark helper, Sphinx extension and CLI."""

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat) loads the optional checkers of string formats that are
# installed (jupyter-events pulls them in): rfc3987_syntax compiles 38 grammars at import (2.5 s in
# every build, grading and CLI process), isoduration imports arrow (60-75 ms), rfc3986_validator
# and rfc3339_validator compile large expressions (23 ms and 9 ms). Notebook validation never
# checks formats (nbformat validates with fastjsonschema), so these processes go without them;
# a build waited for them before reading anything. Measured in `make bench`.
for _checker in ("rfc3987_syntax", "isoduration", "rfc3986_validator", "rfc3339_validator"):
    sys.modules.setdefault(_checker, None)
