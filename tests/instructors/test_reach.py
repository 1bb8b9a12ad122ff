"""Reading a submission's code before it runs: what needs review, what is off limits, and honest
code that needs neither (the end-to-end runs are in test_hostile_isolation.py)."""

from __future__ import annotations

import pytest

from mle_handbook.grading.prepare import off_limits_uses
from mle_handbook.grading.reach import review_reasons

HONEST = {
    "bare expression": "def gini(labels):\n    return 0.5\ngini",
    "atexit": "import atexit\natexit.register(lambda: None)",
    "matplotlib": "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])",
    "warnings": "import warnings\nwarnings.warn('careful')\nwarnings.filterwarnings('ignore')",
    "data files": "import numpy as np\nx = np.loadtxt('data/v.csv')\nopen('data/v.csv').read()",
    "attributes": "from pathlib import Path\nPath('data').parent\nclf.tree_.feature\nt._asdict()",
    "display": "from IPython.display import display\ndisplay(1)\ngetattr(x, 'shape', None)",
    "timing magic": "%time y = sum(range(10))",
    "os and sys": "import os, sys\nos.path.join('a', 'b')\nsys.float_info\nos._exit",
    "regex and pandas": "import re\nre.compile('x')\ndf.query('a > 1')\npd.eval('a + b')",
}

REVIEW = {
    "kernel": ("k = get_ipython().kernel", "kernel's messaging"),
    "session of stdout": ("import sys\nsys.stdout.session.send", "kernel's messaging"),
    "guard in sys.modules": ("import sys\nsys.modules", "internals"),
    "signals": ("import os, signal\nos.kill(os.getppid(), signal.SIGTERM)", "signals"),
    "exec": ("exec('print(1)')", "hidden code"),
    "computed getattr": ("getattr(sys.stdout, 'ses' + 'sion')", "computed name"),
    "shell command": ("!ls /", "kernel's messaging"),
    "cell magic": ("%%bash\necho hi", "magic"),
    "a file it wrote": ("import mymodule_written_here", "not installed"),
    "frames": ("e.__traceback__.tb_frame.f_back", "internals"),
    "inside a timing magic": ("%time get_ipython().kernel", "kernel's messaging"),
    "proc by parts": ("open('/pr' + 'oc/1/cmdline')", "/proc"),
    "pickle through numpy": ("np.load('x.npy', allow_pickle=True)", "hidden code"),
    "string code in pandas": ("pd.eval('get_ipython().kernel')", "kernel's messaging"),
    "raw descriptor": ("open(5, 'wb')", "connections"),
    "ctypes through numpy": ("np.ctypeslib.as_array(p)", "internals"),
}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_honest_code_needs_no_review(name):
    assert review_reasons([HONEST[name]]) == []


@pytest.mark.parametrize("name", sorted(REVIEW))
def test_code_that_reaches_the_machinery_is_held_for_review_with_its_reason(name):
    code, why = REVIEW[name]
    reasons = review_reasons([code])
    assert any(why in reason for reason in reasons), reasons


def test_off_limits_names_are_found_however_they_were_imported():
    banned = ["sklearn.tree.DecisionTreeClassifier", "sklearn_impurity"]
    setup = ["from sklearn.tree import DecisionTreeClassifier"]
    uses = {
        "def f(X, y):\n    return DecisionTreeClassifier().fit(X, y)": setup,
        "from sklearn import tree\ndef f(X, y):\n    return tree.DecisionTreeClassifier()": [],
        "import sklearn.tree as t\ndef f():\n    return t.DecisionTreeClassifier": [],
        "def gini(labels):\n    return sklearn_impurity(labels)": [],
    }
    for answer, context in uses.items():
        assert off_limits_uses(answer, banned, context), answer
    assert off_limits_uses("def f(X):\n    return np.mean(X)", banned, ["import numpy as np"]) == []
