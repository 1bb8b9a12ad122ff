"""The decision-trees exercise's checks are honest.

Each plausible wrong answer listed in the exercise's issue (proportions instead of counts, entropy in
nats, unweighted children, thresholds at data values instead of midpoints, ``<`` instead of ``<=``,
ties resolved the other way, and a few more) fails the checks of its question, and alternative
correct answers (Counter-based loops or NumPy-vectorised code, a tree of tuples or a tree held in
parallel arrays, manual folds or GridSearchCV) pass every check.

A wrong answer is the model solution with one change, so that it differs from a right answer in
one place only; the tests first make sure the text they change is still in the model solution.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # tests/exercise_harness.py, also when run without the conftest
    sys.path.insert(0, str(TESTS))

import exercise_harness as harness  # noqa: E402
from exercise_harness import check_outcomes, failed  # noqa: E402

from mle_handbook.exercises.markers import cell_kind, question_of  # noqa: E402

NOTEBOOK = TESTS.parent / "exercises" / "decision-trees.ipynb"
QUESTIONS = ["gini", "entropy", "impurity_decrease", "best_threshold", "tree", "depth"]


def model_solution(question: str) -> str:
    return harness.model_solution(NOTEBOOK, question)


def mutate(question: str, old: str, new: str) -> str:
    return harness.mutate(NOTEBOOK, question, old, new)


def run_question(tmp_path: Path, question: str, code: str) -> dict[str, str | None]:
    """Run the exercise with ``code`` as the answer to ``question``, keeping only its checks.

    Every set-up and solution cell still runs; the other questions' test cells are left out only
    to save time.
    """
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells = [
        cell
        for cell in nb.cells
        if not cell_kind(cell).autograded_test or question_of(cell_kind(cell).grade_id) == question
    ]
    path = tmp_path / NOTEBOOK.name
    nbformat.write(nb, path)
    return check_outcomes(path, {f"{question}-solution": code})


def run_all(**answers: str) -> dict[str, str | None]:
    """Run the whole exercise with ``question=code`` replacing ``question-solution``."""
    return check_outcomes(
        NOTEBOOK, {f"{q}-solution": textwrap.dedent(code) for q, code in answers.items()}
    )


# --- wrong answers: (question, what is wrong, text of the model solution, replacement) ------------------

WRONG_ANSWERS = [
    # gini
    ("gini", "counts instead of proportions",
     "proportions = counts / counts.sum()", "proportions = counts"),
    ("gini", "proportions not squared",
     "np.sum(proportions**2)", "np.sum(proportions)"),
    ("gini", "empty input not handled",
     "    if labels.size == 0:\n        return 0.0\n", ""),
    # entropy
    ("entropy", "entropy in nats",
     "np.log2(p)", "np.log(p)"),
    ("entropy", "counts instead of proportions",
     "p = counts / counts.sum()", "p = counts.astype(float)"),
    # impurity_decrease
    ("impurity_decrease", "unweighted mean of the children",
     "children = (len(left) * impurity(left) + len(right) * impurity(right)) / n",
     "children = (impurity(left) + impurity(right)) / 2"),
    ("impurity_decrease", "unweighted sum of the children",
     "children = (len(left) * impurity(left) + len(right) * impurity(right)) / n",
     "children = impurity(left) + impurity(right)"),
    ("impurity_decrease", "impurity argument ignored",
     "children = (len(left) * impurity(left) + len(right) * impurity(right)) / n\n"
     "    return float(impurity(parent) - children)",
     "children = (len(left) * gini(left) + len(right) * gini(right)) / n\n"
     "    return float(gini(parent) - children)"),
    # best_threshold
    ("best_threshold", "thresholds at data values instead of midpoints",
     "for t in (values[:-1] + values[1:]) / 2:", "for t in values[:-1]:"),
    ("best_threshold", "< instead of <= with thresholds at data values",
     "for t in (values[:-1] + values[1:]) / 2:\n        goes_left = x <= t",
     "for t in values[1:]:\n        goes_left = x < t"),
    ("best_threshold", "ties resolved to the largest threshold",
     "if decrease > best_decrease + 1e-12:", "if decrease >= best_decrease - 1e-12:"),
    ("best_threshold", "near-ties within 1e-12 not treated as ties",
     "if decrease > best_decrease + 1e-12:", "if decrease > best_decrease:"),
    ("best_threshold", "unweighted children",
     "decrease = impurity_decrease(y, y[goes_left], y[~goes_left], impurity)",
     "decrease = impurity(y) - (impurity(y[goes_left]) + impurity(y[~goes_left])) / 2"),
    ("best_threshold", "x not sorted: midpoints of neighbours in the given order",
     "values = np.unique(x)", "values = x"),
    ("best_threshold", "midpoints between repeated values",
     "values = np.unique(x)\n    if len(values) < 2:",
     "values = np.sort(x)\n    if len(np.unique(values)) < 2:"),
    ("best_threshold", "(None, 0.0) for a pure y",
     "if len(values) < 2:", "if len(values) < 2 or len(np.unique(y)) < 2:"),
    ("best_threshold", "impurity argument ignored",
     "decrease = impurity_decrease(y, y[goes_left], y[~goes_left], impurity)",
     "decrease = impurity_decrease(y, y[goes_left], y[~goes_left], gini)"),
    # tree
    ("tree", "< instead of <= in predict",
     'if row[node["feature"]] <= node["threshold"]', 'if row[node["feature"]] < node["threshold"]'),
    ("tree", "thresholds at data values instead of midpoints",
     '"threshold": t,', '"threshold": X[rows, feature][X[rows, feature] <= t].max(),'),
    ("tree", "leaf ties resolved to the largest label",
     'return {"label": values[np.argmax(counts)]}',
     'return {"label": values[len(counts) - 1 - np.argmax(counts[::-1])]}'),
    ("tree", "leaf ties resolved by first appearance (Counter.most_common)",
     'return {"label": values[np.argmax(counts)]}',
     'return {"label": Counter(labels.tolist()).most_common(1)[0][0]}'),
    ("tree", "max_depth off by one",
     "depth >= max_depth", "depth > max_depth"),
    ("tree", "min_samples_split ignored",
     "len(rows) < min_samples_split", "len(rows) < 2"),
    ("tree", "entropy instead of Gini impurity",
     "best_threshold(X[rows, feature], labels, gini)",
     "best_threshold(X[rows, feature], labels, entropy)"),
    # depth
    ("depth", "folds not shuffled",
     "folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)",
     "folds = cv"),
    ("depth", "ties resolved to the largest depth",
     "if score > best_score + 1e-12:", "if score >= best_score - 1e-12:"),
    ("depth", "near-ties within 1e-12 not treated as ties",
     "if score > best_score + 1e-12:", "if score > best_score:"),
    ("depth", "depths taken in the given order",
     "for d in sorted(depths):", "for d in depths:"),
    ("depth", "training accuracy instead of cross-validation",
     "score = cross_val_score(model, X, y, cv=folds).mean()",
     "score = model.fit(X, y).score(X, y)"),
    ("depth", "random_state ignored",
     "shuffle=True, random_state=random_state)", "shuffle=True, random_state=0)"),
    ("depth", "cv ignored",
     "n_splits=cv", "n_splits=5"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "old", "new"),
    [
        pytest.param(
            q, old, new, id=f"{q}: {what}", marks=[pytest.mark.slow] if q == "depth" else []
        )
        for q, what, old, new in WRONG_ANSWERS
    ],
)
def test_wrong_answer_fails_its_questions_checks(tmp_path, question, old, new):
    outcomes = run_question(tmp_path, question, mutate(question, old, new))
    errors = {key: message for key, message in outcomes.items() if key.startswith("<cell")}
    assert not errors, f"the wrong answer did not even run, so it proves nothing: {errors}"
    assert any(question_of(g) == question for g in outcomes), f"no {question} checks ran"
    assert failed(outcomes, question), f"every {question} check passed a wrong answer"


def test_every_listed_kind_of_wrong_answer_is_covered():
    """The issue's list: each kind appears among the wrong answers proven to fail."""
    kinds = " | ".join(what for _, what, _, _ in WRONG_ANSWERS)
    for kind in (
        "counts instead of proportions",
        "entropy in nats",
        "unweighted",
        "thresholds at data values instead of midpoints",
        "< instead of <=",
        "ties resolved to the largest",
    ):
        assert kind in kinds, f"no wrong answer of the kind {kind!r}"


@pytest.mark.slow
def test_model_solution_passes_the_checks_of_each_question(tmp_path):
    for question in QUESTIONS:
        outcomes = run_question(tmp_path, question, model_solution(question))
        problems = {g: m for g, m in outcomes.items() if m is not None}
        assert not problems, f"the model solution fails: {problems}"


# --- alternative correct answers ------------------------------------------------------------------------

LOOPS = dict(
    gini="""
        from collections import Counter


        def gini(labels):
            labels = list(labels)
            if not labels:
                return 0.0
            return 1.0 - sum((c / len(labels)) ** 2 for c in Counter(labels).values())
        """,
    entropy="""
        import math
        from collections import Counter


        def entropy(labels):
            labels = list(labels)
            n = len(labels)
            return -sum(c / n * math.log2(c / n) for c in Counter(labels).values()) if n else 0.0
        """,
    impurity_decrease="""
        def impurity_decrease(parent, left, right, impurity=gini):
            n = len(parent)
            return impurity(parent) - len(left) / n * impurity(left) - len(right) / n * impurity(right)
        """,
    best_threshold="""
        def best_threshold(x, y, impurity=gini):
            pairs = sorted(zip([float(v) for v in x], list(y)), key=lambda pair: pair[0])
            values = sorted({v for v, _ in pairs})
            labels = [label for _, label in pairs]
            best, best_decrease = (None, 0.0), None
            for low, high in zip(values, values[1:]):
                t = (low + high) / 2
                left = [label for v, label in pairs if v <= t]
                right = [label for v, label in pairs if v > t]
                decrease = impurity_decrease(labels, left, right, impurity)
                if best_decrease is None or decrease > best_decrease + 1e-12:
                    best, best_decrease = (t, decrease), decrease
            return best
        """,
    tree="""
        from collections import Counter


        def fit_tree(X, y, max_depth, min_samples_split=2):
            rows = [[float(v) for v in row] for row in X]
            labels = list(y)

            def leaf(node_labels):
                counts = Counter(node_labels)
                top = max(counts.values())
                return ("leaf", min(label for label, c in counts.items() if c == top))

            def grow(index, depth):
                node_labels = [labels[i] for i in index]
                if (
                    len(set(node_labels)) == 1
                    or len(index) < min_samples_split
                    or (max_depth is not None and depth >= max_depth)
                ):
                    return leaf(node_labels)
                best = None
                for j in range(len(rows[0])):
                    t, decrease = best_threshold([rows[i][j] for i in index], node_labels)
                    if t is not None and (best is None or decrease > best[2] + 1e-12):
                        best = (j, t, decrease)
                if best is None:
                    return leaf(node_labels)
                j, t, _ = best
                left = grow([i for i in index if rows[i][j] <= t], depth + 1)
                right = grow([i for i in index if rows[i][j] > t], depth + 1)
                return ("split", j, t, left, right)

            return grow(list(range(len(labels))), 0)


        def predict(tree, X):
            out = []
            for row in X:
                node = tree
                while node[0] == "split":
                    _, j, t, left, right = node
                    node = left if float(row[j]) <= t else right
                out.append(node[1])
            return out
        """,
    depth="""
        def choose_max_depth(X, y, depths, cv=5, random_state=0):
            X, y = np.asarray(X), np.asarray(y)
            splitter = StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state)
            folds = list(splitter.split(X, y))
            means = {}
            for d in set(depths):
                accuracies = []
                for train, test in folds:
                    model = DecisionTreeClassifier(max_depth=d, random_state=random_state)
                    model.fit(X[train], y[train])
                    accuracies.append(np.mean(model.predict(X[test]) == y[test]))
                means[d] = sum(accuracies) / len(accuracies)
            best = max(means.values())
            return int(min(d for d, m in means.items() if m >= best - 1e-12))
        """,
)

VECTORISED = dict(
    gini="""
        def _proportions(labels):
            labels = np.asarray(labels)
            if labels.size == 0:
                return np.zeros(0)
            return np.unique(labels, return_counts=True)[1] / labels.size


        def gini(labels):
            p = _proportions(labels)
            return float(1.0 - p @ p) if p.size else 0.0
        """,
    entropy="""
        def entropy(labels):
            p = _proportions(labels)
            return float(-(p * np.log2(p)).sum())
        """,
    impurity_decrease="""
        def impurity_decrease(parent, left, right, impurity=gini):
            sizes = np.array([len(left), len(right)], dtype=float)
            children = np.array([impurity(left), impurity(right)])
            return float(impurity(parent) - sizes @ children / sizes.sum())
        """,
    best_threshold="""
        def best_threshold(x, y, impurity=gini):
            x, y = np.asarray(x, dtype=float), np.asarray(y)
            order = np.argsort(x, kind="stable")
            xs, ys = x[order], y[order]
            starts = np.flatnonzero(np.diff(xs) > 0) + 1  # where a new distinct value begins
            if starts.size == 0:
                return None, 0.0
            thresholds = (xs[starts - 1] + xs[starts]) / 2
            decreases = np.array([impurity_decrease(ys, ys[:k], ys[k:], impurity) for k in starts])
            first = np.flatnonzero(decreases >= decreases.max() - 1e-12)[0]
            return float(thresholds[first]), float(decreases[first])
        """,
    tree="""
        class ArrayTree:
            # Nodes in parallel lists, as scikit-learn stores them; a leaf has feature None.
            def __init__(self):
                self.feature, self.threshold, self.left, self.right, self.label = [], [], [], [], []

            def add(self, label):
                for column in (self.feature, self.threshold, self.left, self.right):
                    column.append(None)
                self.label.append(label)
                return len(self.label) - 1


        def fit_tree(X, y, max_depth, min_samples_split=2):
            X = np.asarray(X, dtype=float)
            classes, codes = np.unique(np.asarray(y), return_inverse=True)
            onehot = np.eye(len(classes))[codes]
            tree = ArrayTree()

            def best_split(rows):
                # Gini impurity of every split from cumulative class counts, feature by feature.
                n = len(rows)
                total = onehot[rows].sum(axis=0)
                parent = 1.0 - ((total / n) ** 2).sum()
                best = (-np.inf, None, None)
                for j in range(X.shape[1]):
                    order = np.argsort(X[rows, j], kind="stable")
                    xs = X[rows, j][order]
                    left = np.cumsum(onehot[rows][order], axis=0)[:-1]
                    n_left = np.arange(1, n)[:, None]
                    right = total - left
                    g_left = 1.0 - ((left / n_left) ** 2).sum(axis=1)
                    g_right = 1.0 - ((right / (n - n_left)) ** 2).sum(axis=1)
                    decrease = parent - (n_left[:, 0] * g_left + (n - n_left[:, 0]) * g_right) / n
                    decrease[xs[1:] <= xs[:-1]] = -np.inf  # no threshold between equal values
                    i = int(np.argmax(decrease))
                    if np.isfinite(decrease[i]) and decrease[i] > best[0] + 1e-12:
                        best = (decrease[i], j, (xs[i] + xs[i + 1]) / 2)
                return best[1], best[2]

            def grow(rows, depth):
                counts = np.bincount(codes[rows], minlength=len(classes))
                node = tree.add(classes[np.argmax(counts)])
                if (
                    counts.max() == len(rows)
                    or len(rows) < min_samples_split
                    or (max_depth is not None and depth >= max_depth)
                ):
                    return node
                feature, t = best_split(rows)
                if feature is None:
                    return node
                goes_left = X[rows, feature] <= t
                tree.feature[node], tree.threshold[node] = feature, t
                tree.left[node] = grow(rows[goes_left], depth + 1)
                tree.right[node] = grow(rows[~goes_left], depth + 1)
                return node

            grow(np.arange(len(codes)), 0)
            return tree


        def predict(tree, X):
            out = []
            for row in np.asarray(X, dtype=float):
                node = 0
                while tree.feature[node] is not None:
                    f = tree.feature[node]
                    node = tree.left[node] if row[f] <= tree.threshold[node] else tree.right[node]
                out.append(tree.label[node])
            return np.array(out)
        """,
    depth="""
        from sklearn.model_selection import GridSearchCV


        def choose_max_depth(X, y, depths, cv=5, random_state=0):
            grid = sorted(int(d) for d in depths)
            search = GridSearchCV(
                DecisionTreeClassifier(random_state=random_state),
                {"max_depth": grid},
                cv=StratifiedKFold(n_splits=cv, shuffle=True, random_state=random_state),
                refit=False,
            )
            means = search.fit(X, y).cv_results_["mean_test_score"]
            return grid[int(np.flatnonzero(means >= means.max() - 1e-12)[0])]
        """,
)


def assert_all_pass(outcomes: dict[str, str | None]) -> None:
    harness.assert_all_pass(outcomes, QUESTIONS)


@pytest.mark.slow
def test_counter_loops_tuple_tree_and_manual_folds_pass_every_check():
    assert_all_pass(run_all(**LOOPS))


@pytest.mark.slow
def test_numpy_vectorised_array_tree_and_grid_search_pass_every_check():
    assert_all_pass(run_all(**VECTORISED))
