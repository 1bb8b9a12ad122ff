"""The monitoring exercise's checks are honest, and its worked notebook runs.

The student version fails every autograded check; each plausible wrong answer (most of them the
model solution with one change, so that it differs from a right answer in one place) fails at least
one check of its question; alternative correct answers (other binnings, a join instead of a merge,
``np.digitize`` instead of ``floor``, loops instead of vectorised code) pass every check. The
questions do not use each other's functions, so each wrong answer runs with its own question's
cells only.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # tests/exercise_harness.py, also when run without the conftest
    sys.path.insert(0, str(TESTS))

import exercise_harness as harness  # noqa: E402
from exercise_harness import check_outcomes, failed  # noqa: E402

from mle_handbook.exercises.markers import cell_kind, question_of  # noqa: E402
from mle_handbook.exercises.student import student_version  # noqa: E402

ROOT = TESTS.parent
NOTEBOOK = ROOT / "exercises" / "monitoring.ipynb"
WORKED = ROOT / "notebooks" / "monitoring.ipynb"
QUESTIONS = ["validate", "psi", "ks", "ece", "skew", "invariance"]
SETUP = "monitoring-setup"

pytestmark = pytest.mark.slow  # every test executes exercise cells in this process


def model_solution(question: str) -> str:
    return harness.model_solution(NOTEBOOK, question)


def mutate(question: str, *pairs: str) -> str:
    return harness.mutate(NOTEBOOK, question, *pairs)


def run_question(tmp_path: Path, question: str, code: str) -> dict[str, str | None]:
    """Run the set-up cell, then ``question``'s cells with ``code`` as its answer."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nb.cells = [
        cell
        for cell in nb.cells
        if cell.cell_type == "code"
        and (
            cell_kind(cell).grade_id == SETUP
            or question_of(cell_kind(cell).grade_id or "") == question
        )
    ]
    path = tmp_path / NOTEBOOK.name
    nbformat.write(nb, path)
    return check_outcomes(path, {f"{question}-solution": textwrap.dedent(code)})


def test_model_answers_pass_every_check_and_every_cell_runs():
    outcomes = check_outcomes(NOTEBOOK)
    assert not {k: v for k, v in outcomes.items() if v is not None}
    assert {question_of(k) for k in outcomes} == set(QUESTIONS)
    assert len(outcomes) == 15


def test_student_version_fails_every_autograded_check(tmp_path):
    student = student_version(nbformat.read(NOTEBOOK, as_version=4))
    path = tmp_path / NOTEBOOK.name
    nbformat.write(student, path)
    outcomes = check_outcomes(path)
    checks = {k: v for k, v in outcomes.items() if not k.startswith("<cell")}
    assert len(checks) == 15
    passed = [k for k, v in checks.items() if v is None]
    assert not passed, f"checks passed on the student version: {passed}"


# --- wrong answers: (question, what is wrong, answer) -------------------------------------------------

VALIDATE_LIST_UNSORTED = """
def validate_batch(df, schema):
    problems = []
    for column, rules in schema.items():
        if column not in df.columns:
            problems.append((column, "missing"))
            continue
        values = df[column]
        present = values.dropna()
        if not rules.get("nullable", True) and values.isna().any():
            problems.append((column, "nulls"))
        if ("min" in rules and (present < rules["min"]).any()) or (
            "max" in rules and (present > rules["max"]).any()
        ):
            problems.append((column, "range"))
        if "allowed" in rules and not present.isin(list(rules["allowed"])).all():
            problems.append((column, "category"))
    problems += [(column, "unexpected") for column in df.columns if column not in schema]
    return problems
"""

VALIDATE_DUPLICATES = """
def validate_batch(df, schema):
    problems = [(column, "unexpected") for column in df.columns if column not in schema]
    for column, rules in schema.items():
        if column not in df.columns:
            problems.append((column, "missing"))
            continue
        present = df[column].dropna()
        if not rules.get("nullable", True) and df[column].isna().any():
            problems.append((column, "nulls"))
        if "min" in rules and (present < rules["min"]).any():
            problems.append((column, "range"))
        if "max" in rules and (present > rules["max"]).any():
            problems.append((column, "range"))
        if "allowed" in rules and not present.isin(list(rules["allowed"])).all():
            problems.append((column, "category"))
    return sorted(problems)
"""

VALIDATE_BETWEEN = """
def validate_batch(df, schema):
    problems = {(column, "unexpected") for column in df.columns if column not in schema}
    for column, rules in schema.items():
        if column not in df.columns:
            problems.add((column, "missing"))
            continue
        values = df[column]
        if not rules.get("nullable", True) and values.isna().any():
            problems.add((column, "nulls"))
        if "min" in rules or "max" in rules:
            low, high = rules.get("min", -np.inf), rules.get("max", np.inf)
            if not values.between(low, high).all():
                problems.add((column, "range"))
        if "allowed" in rules and not values.dropna().isin(list(rules["allowed"])).all():
            problems.add((column, "category"))
    return sorted(problems)
"""

PSI_EQUAL_WIDTH = """
def population_stability_index(expected, actual, bins=10):
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if expected.size == 0 or actual.size == 0:
        raise ValueError("empty sample")
    interior = np.linspace(expected.min(), expected.max(), bins + 1)[1:-1]
    e = np.maximum(np.bincount(np.digitize(expected, interior), minlength=bins) / expected.size, 1e-4)
    a = np.maximum(np.bincount(np.digitize(actual, interior), minlength=bins) / actual.size, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))
"""

PSI_CLOSED_OUTER_BINS = """
def population_stability_index(expected, actual, bins=10):
    expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
    if expected.size == 0 or actual.size == 0:
        raise ValueError("empty sample")
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return 0.0
    e = np.maximum(np.histogram(expected, edges)[0] / expected.size, 1e-4)
    a = np.maximum(np.histogram(actual, edges)[0] / actual.size, 1e-4)
    return float(np.sum((a - e) * np.log(a / e)))
"""

KS_ONE_SAMPLE = """
def ks_drift(reference, current, alpha=0.05):
    mean, spread = np.mean(reference), np.std(reference)
    test = stats.kstest(current, "norm", args=(mean, spread))
    return float(test.statistic), float(test.pvalue), bool(test.pvalue < alpha)
"""

ECE_PER_ROW = """
def expected_calibration_error(y_true, y_prob, n_bins=10):
    y, p = np.asarray(y_true, dtype=float), np.asarray(y_prob, dtype=float)
    if y.shape != p.shape or p.size == 0 or np.any((p < 0) | (p > 1)):
        raise ValueError("bad input")
    return float(np.mean(np.abs(y - p)))
"""

SKEW_EXACT_LOOP = """
def skew_rates(training, serving, key):
    if training[key].duplicated().any() or serving[key].duplicated().any():
        raise ValueError("duplicated key")
    joined = training.merge(serving, on=key, suffixes=("_t", "_s"))
    if joined.empty:
        raise ValueError("nothing joins")
    features = [c for c in training.columns if c != key and c in serving.columns]
    rates = {}
    for f in features:
        differ = 0
        for a, b in zip(joined[f + "_t"], joined[f + "_s"]):
            if pd.isna(a) and pd.isna(b):
                continue
            if pd.isna(a) or pd.isna(b) or a != b:
                differ += 1
        rates[f] = differ / len(joined)
    return rates
"""

INVARIANCE_MEAN_OVER_VALUES = """
def invariance_rate(predict, X, column, values):
    original = np.asarray(predict(X))
    rates = []
    for value in values:
        altered = X.copy()
        altered[column] = value
        rates.append(np.mean(np.asarray(predict(altered)) != original))
    return float(np.mean(rates))
"""

INVARIANCE_IN_PLACE = """
def invariance_rate(predict, X, column, values):
    original = np.asarray(predict(X))
    saved = X[column].copy()
    changed = np.zeros(len(X), dtype=bool)
    for value in values:
        X[column] = value
        changed |= np.asarray(predict(X)) != original
    X[column] = saved
    return float(changed.mean())
"""

INVARIANCE_AGAINST_FIRST_VALUE = """
def invariance_rate(predict, X, column, values):
    predictions = [np.asarray(predict(X.assign(**{column: value}))) for value in values]
    changed = np.zeros(len(X), dtype=bool)
    for p in predictions[1:]:
        changed |= p != predictions[0]
    return float(changed.mean())
"""

WRONG_ANSWERS = [
    # validate
    ("validate", "missing values counted as out of range (Series.between)", lambda: VALIDATE_BETWEEN),
    ("validate", "missing values counted as unknown categories",
     lambda: mutate("validate", 'not present.isin(', 'not values.isin(')),
    ("validate", "nullable defaults to False",
     lambda: mutate("validate", 'rules.get("nullable", True)', 'rules.get("nullable", False)')),
    ("validate", "a bound of 0 ignored (truthiness instead of presence)",
     lambda: mutate("validate", 'if "min" in rules and', 'if rules.get("min") and')),
    ("validate", "exclusive bounds",
     lambda: mutate("validate", 'present < rules["min"]', 'present <= rules["min"]',
                    'present > rules["max"]', 'present >= rules["max"]')),
    ("validate", "not sorted", lambda: VALIDATE_LIST_UNSORTED),
    ("validate", "a range problem reported once per bound", lambda: VALIDATE_DUPLICATES),
    ("validate", "a missing column also reported as nulls",
     lambda: mutate("validate", 'problems.add((column, "missing"))\n',
                    'problems.add((column, "missing"))\n'
                    '            if not rules.get("nullable", True):\n'
                    '                problems.add((column, "nulls"))\n')),
    ("validate", "unexpected columns not reported",
     lambda: mutate("validate", '{(column, "unexpected") for column in df.columns if column not in schema}',
                    "set()")),
    ("validate", "the batch changed: unexpected columns dropped in place",
     lambda: mutate("validate", "for column, rules in schema.items():",
                    "df.drop(columns=[c for c in df.columns if c not in schema], inplace=True)\n"
                    "    for column, rules in schema.items():")),
    # psi
    ("psi", "edges from the actual sample",
     lambda: mutate("psi", "np.quantile(expected,", "np.quantile(actual,")),
    ("psi", "a value on an edge goes to the bin on its left",
     lambda: mutate("psi", "np.digitize(values, interior)", "np.digitize(values, interior, right=True)")),
    ("psi", "shares renormalised after the floor",
     lambda: mutate("psi", "return np.maximum(counts / values.size, 1e-4)",
                    "floored = np.maximum(counts / values.size, 1e-4)\n"
                    "        return floored / floored.sum()")),
    ("psi", "1e-4 added to every share instead of a floor",
     lambda: mutate("psi", "np.maximum(counts / values.size, 1e-4)", "counts / values.size + 1e-4")),
    ("psi", "no floor (empty bins dropped)",
     lambda: mutate("psi", "return float(np.sum((a - e) * np.log(a / e)))",
                    "keep = (a > 1e-4) & (e > 1e-4)\n"
                    "    return float(np.sum((a[keep] - e[keep]) * np.log(a[keep] / e[keep])))")),
    ("psi", "duplicate edges not removed",
     lambda: mutate("psi", "np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))",
                    "np.quantile(expected, np.linspace(0, 1, bins + 1))")),
    ("psi", "duplicates removed after dropping the outer edges",
     lambda: mutate("psi", "edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))\n"
                    "    interior = edges[1:-1]",
                    "edges = np.quantile(expected, np.linspace(0, 1, bins + 1))\n"
                    "    interior = np.unique(edges[1:-1])")),
    ("psi", "equal-width bins", lambda: PSI_EQUAL_WIDTH),
    ("psi", "outer bins closed at the training minimum and maximum", lambda: PSI_CLOSED_OUTER_BINS),
    ("psi", "Kullback-Leibler divergence instead of PSI",
     lambda: mutate("psi", "np.sum((a - e) * np.log(a / e))", "np.sum(a * np.log(a / e))")),
    ("psi", "base-10 logarithm", lambda: mutate("psi", "np.log(a / e)", "np.log10(a / e)")),
    ("psi", "no ValueError for an empty sample",
     lambda: mutate("psi", "if expected.size == 0 or actual.size == 0:", "if False:")),
    ("psi", "the inputs sorted in place",
     lambda: mutate("psi", "    expected = np.asarray(expected, dtype=float)\n",
                    "    expected = np.asarray(expected, dtype=float)\n    expected.sort()\n")),
    # ks
    ("ks", "drifted when the p-value is above alpha",
     lambda: mutate("ks", "bool(p_value < alpha)", "bool(p_value > alpha)")),
    ("ks", "drifted when the p-value equals alpha",
     lambda: mutate("ks", "bool(p_value < alpha)", "bool(p_value <= alpha)")),
    ("ks", "NumPy types returned",
     lambda: mutate("ks", "return float(test.statistic), p_value, bool(p_value < alpha)",
                    "return test.statistic, test.pvalue, test.pvalue < alpha")),
    ("ks", "a one-sided test", lambda: mutate("ks", "stats.ks_2samp(reference, current)",
                                              'stats.ks_2samp(reference, current, alternative="less")')),
    ("ks", "the asymptotic p-value for every sample size",
     lambda: mutate("ks", "stats.ks_2samp(reference, current)",
                    'stats.ks_2samp(reference, current, method="asymp")')),
    ("ks", "statistic and p-value swapped",
     lambda: mutate("ks", "return float(test.statistic), p_value,", "return p_value, float(test.statistic),")),
    ("ks", "a one-sample test against a normal distribution", lambda: KS_ONE_SAMPLE),
    # ece
    ("ece", "bins not weighted by their size",
     lambda: mutate("ece", "total += in_bin.sum() / p.size * abs(", "total += 1 / len(np.unique(bins)) * abs(")),
    ("ece", "averaged over all n_bins bins, empty ones too",
     lambda: mutate("ece", "total += in_bin.sum() / p.size * abs(", "total += 1 / n_bins * abs(")),
    ("ece", "1.0 in a bin of its own",
     lambda: mutate("ece", "np.minimum(np.floor(p * n_bins).astype(int), n_bins - 1)",
                    "np.floor(p * n_bins).astype(int)")),
    ("ece", "bins closed on the right (ceil)",
     lambda: mutate("ece", "np.minimum(np.floor(p * n_bins).astype(int), n_bins - 1)",
                    "np.maximum(np.ceil(p * n_bins).astype(int) - 1, 0)")),
    ("ece", "n_bins ignored", lambda: mutate("ece", "np.floor(p * n_bins)", "np.floor(p * 10)",
                                             "n_bins - 1)", "9)")),
    ("ece", "the largest gap (MCE) instead of the weighted mean",
     lambda: mutate("ece", "total += in_bin.sum() / p.size * abs(y[in_bin].mean() - p[in_bin].mean())",
                    "total = max(total, abs(y[in_bin].mean() - p[in_bin].mean()))")),
    ("ece", "signed gaps", lambda: mutate("ece", "abs(y[in_bin].mean() - p[in_bin].mean())",
                                         "(y[in_bin].mean() - p[in_bin].mean())")),
    ("ece", "the mean absolute error of each row", lambda: ECE_PER_ROW),
    ("ece", "probabilities outside [0, 1] accepted",
     lambda: mutate("ece", "if not np.all((p >= 0) & (p <= 1)):", "if False:")),
    ("ece", "lengths not compared", lambda: mutate("ece", "if y.shape != p.shape:", "if False:")),
    # skew
    ("skew", "an outer join", lambda: mutate("skew", 'how="inner"', 'how="outer"')),
    ("skew", "a left join", lambda: mutate("skew", 'how="inner"', 'how="left"')),
    ("skew", "numbers compared exactly",
     lambda: mutate("skew", "np.isclose(s_values, t_values, rtol=1e-6, atol=1e-9)", "s_values == t_values")),
    ("skew", "np.isclose's default tolerances",
     lambda: mutate("skew", "np.isclose(s_values, t_values, rtol=1e-6, atol=1e-9)",
                    "np.isclose(s_values, t_values)")),
    ("skew", "two missing values counted as different",
     lambda: mutate("skew", "same = np.where(t_missing | s_missing, t_missing & s_missing, same)", "")),
    ("skew", "a missing value equal to anything",
     lambda: mutate("skew", "np.where(t_missing | s_missing, t_missing & s_missing, same)",
                    "np.where(t_missing | s_missing, True, same)")),
    ("skew", "duplicated keys not refused",
     lambda: mutate("skew", 'raise ValueError(f"a {key} appears more than once in {name}")', "pass")),
    ("skew", "no ValueError when nothing joins",
     lambda: mutate("skew", 'raise ValueError(f"no {key} is in both frames")', "return {}")),
    ("skew", "divided by the training rows",
     lambda: mutate("skew", "float(np.mean(~same))", "float((~same).sum() / len(training))")),
    ("skew", "counts instead of fractions", lambda: mutate("skew", "float(np.mean(~same))",
                                                           "float((~same).sum())")),
    ("skew", "NumPy floats returned", lambda: mutate("skew", "float(np.mean(~same))", "np.mean(~same)")),
    ("skew", "every value compared exactly, row by row", lambda: SKEW_EXACT_LOOP),
    # invariance
    ("invariance", "the mean over values of the share changed", lambda: INVARIANCE_MEAN_OVER_VALUES),
    ("invariance", "X modified and restored", lambda: INVARIANCE_IN_PLACE),
    ("invariance", "compared with the first value's predictions", lambda: INVARIANCE_AGAINST_FIRST_VALUE),
    ("invariance", "the share unchanged instead of changed",
     lambda: mutate("invariance", "return float(changed.mean())", "return float(1 - changed.mean())")),
    ("invariance", "a count instead of a fraction",
     lambda: mutate("invariance", "return float(changed.mean())", "return float(changed.sum())")),
    ("invariance", "only the first value tried",
     lambda: mutate("invariance", "for value in values:", "for value in list(values)[:1]:")),
    ("invariance", "X changed in place, never restored",
     lambda: mutate("invariance", "altered = X.copy()", "altered = X")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("question", "answer"),
    [pytest.param(q, answer, id=f"{q}: {what}") for q, what, answer in WRONG_ANSWERS],
)
def test_wrong_answer_fails_its_questions_checks(tmp_path, question, answer):
    outcomes = run_question(tmp_path, question, answer())
    errors = {key: message for key, message in outcomes.items() if key.startswith("<cell")}
    assert not errors, f"the wrong answer did not even run, so it proves nothing: {errors}"
    assert any(question_of(g) == question for g in outcomes), f"no {question} checks ran"
    assert failed(outcomes, question), f"every {question} check passed a wrong answer"


def test_every_question_has_several_wrong_answers():
    for question in QUESTIONS:
        assert sum(q == question for q, _, _ in WRONG_ANSWERS) >= 5, question


def test_failure_messages_do_not_print_the_expected_answer(tmp_path):
    """A wrong rate is reported with the learner's number, never with the right one."""
    outcomes = run_question(
        tmp_path,
        "skew",
        mutate(
            "skew", "np.isclose(s_values, t_values, rtol=1e-6, atol=1e-9)", "s_values == t_values"
        ),
    )
    message = outcomes["skew-values"]
    assert message and "0.25" not in message and "1 / 4" not in message, message


# --- correct answers written differently ------------------------------------------------------------

RIGHT_ANSWERS = {
    "validate": [
        """
        def validate_batch(df, schema):
            found = []
            for column in df.columns.difference(list(schema)):
                found.append((column, "unexpected"))
            for column, rules in schema.items():
                if column not in df:
                    found.append((column, "missing"))
                    continue
                column_values = df[column]
                missing = pd.isna(column_values)
                if rules.get("nullable", True) is False and missing.any():
                    found.append((column, "nulls"))
                kept = column_values[~missing]
                low, high = rules.get("min"), rules.get("max")
                if (low is not None and (kept < low).any()) or (high is not None and (kept > high).any()):
                    found.append((column, "range"))
                if "allowed" in rules and set(kept.tolist()) - set(rules["allowed"]):
                    found.append((column, "category"))
            return sorted(set(found), key=lambda pair: (pair[0], pair[1]))
        """,
        """
        def validate_batch(df, schema):
            result = []
            columns = set(df.columns) | set(schema)
            for column in sorted(columns):
                kinds = []
                if column not in schema:
                    kinds.append("unexpected")
                elif column not in df.columns:
                    kinds.append("missing")
                else:
                    rules = schema[column]
                    present = df[column].dropna()
                    if not rules.get("nullable", True) and len(present) < len(df):
                        kinds.append("nulls")
                    if "min" in rules or "max" in rules:
                        low, high = rules.get("min", -math.inf), rules.get("max", math.inf)
                        if not present.between(low, high).all():
                            kinds.append("range")
                    if "allowed" in rules and any(v not in rules["allowed"] for v in present):
                        kinds.append("category")
                result.extend((column, kind) for kind in sorted(kinds))
            return result
        """,
    ],
    "psi": [
        """
        def population_stability_index(expected, actual, bins=10):
            e_values = pd.Series(expected, dtype=float)
            a_values = pd.Series(actual, dtype=float)
            if e_values.empty or a_values.empty:
                raise ValueError("empty")
            cuts = sorted(set(e_values.quantile(np.linspace(0, 1, bins + 1)).tolist()))[1:-1]
            edges = [-np.inf, *cuts, np.inf]
            labels = range(len(edges) - 1)

            def shares(values):
                binned = pd.cut(values, edges, right=False, labels=False)
                counts = binned.value_counts().reindex(labels, fill_value=0).sort_index()
                return (counts / len(values)).clip(lower=1e-4).to_numpy()

            e, a = shares(e_values), shares(a_values)
            return float(((a - e) * np.log(a / e)).sum())
        """,
        """
        from collections import Counter

        def population_stability_index(expected, actual, bins=10):
            expected = np.array(expected, dtype=float)
            actual = np.array(actual, dtype=float)
            if len(expected) == 0 or len(actual) == 0:
                raise ValueError("both samples must be non-empty")
            quantiles = np.quantile(expected, np.linspace(0, 1, bins + 1))
            interior = np.unique(quantiles)[1:-1]
            e_counts = Counter(np.searchsorted(interior, expected, side="right").tolist())
            a_counts = Counter(np.searchsorted(interior, actual, side="right").tolist())
            total = 0.0
            for b in range(len(interior) + 1):
                e = max(e_counts[b] / len(expected), 1e-4)
                a = max(a_counts[b] / len(actual), 1e-4)
                total += (a - e) * math.log(a / e)
            return total
        """,
        """
        def population_stability_index(expected, actual, bins=10):
            expected, actual = np.asarray(expected, dtype=float), np.asarray(actual, dtype=float)
            if not expected.size or not actual.size:
                raise ValueError("empty sample")
            edges = np.quantile(expected, np.linspace(0, 1, bins + 1))
            edges = edges[np.r_[True, np.diff(edges) > 0]]          # drop repeats
            open_edges = np.concatenate([[-np.inf], edges[1:-1], [np.inf]])
            e = np.clip(np.histogram(expected, open_edges)[0] / expected.size, 1e-4, None)
            a = np.clip(np.histogram(actual, open_edges)[0] / actual.size, 1e-4, None)
            return float(np.dot(a - e, np.log(a) - np.log(e)))
        """,
    ],
    "ks": [
        """
        def ks_drift(reference, current, alpha=0.05):
            statistic, p_value = stats.ks_2samp(np.asarray(reference), np.asarray(current))
            drifted = True if p_value < alpha else False
            return statistic.item(), p_value.item(), drifted
        """,
        """
        def ks_drift(reference, current, alpha=0.05):
            test = stats.kstest(list(reference), list(current))
            return float(test[0]), float(test[1]), bool(test[1] < alpha)
        """,
    ],
    "ece": [
        """
        def expected_calibration_error(y_true, y_prob, n_bins=10):
            y = np.asarray(y_true, dtype=float)
            p = np.asarray(y_prob, dtype=float)
            if len(y) != len(p) or len(p) == 0:
                raise ValueError("need two non-empty sequences of the same length")
            if p.min() < 0 or p.max() > 1:
                raise ValueError("probabilities must be in [0, 1]")
            bins = np.digitize(p, np.linspace(0, 1, n_bins + 1)[1:-1])
            counts = np.bincount(bins, minlength=n_bins)
            y_sums = np.bincount(bins, weights=y, minlength=n_bins)
            p_sums = np.bincount(bins, weights=p, minlength=n_bins)
            used = counts > 0
            gaps = np.abs(y_sums[used] - p_sums[used]) / counts[used]
            return float(np.sum(counts[used] / len(p) * gaps))
        """,
        """
        def expected_calibration_error(y_true, y_prob, n_bins=10):
            y_true, y_prob = list(y_true), list(y_prob)
            if len(y_true) != len(y_prob) or not y_prob:
                raise ValueError("lengths differ or no data")
            groups = {}
            for outcome, prob in zip(y_true, y_prob):
                prob = float(prob)
                if not 0.0 <= prob <= 1.0:
                    raise ValueError(f"{prob} is not a probability")
                b = min(math.floor(prob * n_bins), n_bins - 1)
                groups.setdefault(b, []).append((float(outcome), prob))
            total = 0.0
            for rows in groups.values():
                mean_y = sum(o for o, _ in rows) / len(rows)
                mean_p = sum(q for _, q in rows) / len(rows)
                total += len(rows) / len(y_prob) * abs(mean_y - mean_p)
            return total
        """,
        """
        def expected_calibration_error(y_true, y_prob, n_bins=10):
            frame = pd.DataFrame({"y": pd.Series(y_true).to_numpy(dtype=float)})
            if len(frame) != len(y_prob):
                raise ValueError("lengths differ")
            frame["p"] = np.asarray(y_prob, dtype=float)
            if frame.empty:
                raise ValueError("empty")
            if not frame["p"].between(0, 1).all():
                raise ValueError("probability outside [0, 1]")
            frame["bin"] = (frame["p"] * n_bins).astype(int).clip(upper=n_bins - 1)
            table = frame.groupby("bin").agg(size=("y", "size"), y=("y", "mean"), p=("p", "mean"))
            return float((table["size"] * (table["y"] - table["p"]).abs()).sum() / len(frame))
        """,
    ],
    "skew": [
        """
        def skew_rates(training, serving, key):
            if not training[key].is_unique or not serving[key].is_unique:
                raise ValueError("keys must be unique in each frame")
            left = training.set_index(key)
            right = serving.set_index(key)
            both = left.join(right, how="inner", lsuffix="_train", rsuffix="_serve")
            if both.empty:
                raise ValueError("no shared keys")
            rates = {}
            for feature in left.columns.intersection(right.columns):
                a, b = both[feature + "_train"], both[feature + "_serve"]
                if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                    equal = np.isclose(b.astype(float), a.astype(float), rtol=1e-6, atol=1e-9, equal_nan=True)
                else:
                    equal = (a.astype(object) == b.astype(object)).to_numpy() | (a.isna() & b.isna()).to_numpy()
                    equal &= ~(a.isna() ^ b.isna()).to_numpy()
                rates[feature] = float(1.0 - equal.mean())
            return rates
        """,
        """
        def skew_rates(training, serving, key):
            for frame in (training, serving):
                if len(set(frame[key])) != len(frame):
                    raise ValueError("duplicated key")
            serving_rows = {row[key]: row for row in serving.to_dict("records")}
            pairs = [(row, serving_rows[row[key]]) for row in training.to_dict("records")
                     if row[key] in serving_rows]
            if not pairs:
                raise ValueError("no rows join")
            shared = [c for c in training.columns if c in serving.columns and c != key]

            def same(t, s):
                if pd.isna(t) or pd.isna(s):
                    return bool(pd.isna(t) and pd.isna(s))
                numbers = (int, float, np.integer, np.floating)
                if isinstance(t, numbers) and isinstance(s, numbers):
                    return bool(np.isclose(s, t, rtol=1e-6, atol=1e-9))
                return t == s

            return {f: sum(not same(t[f], s[f]) for t, s in pairs) / len(pairs) for f in shared}
        """,
    ],
    "invariance": [
        """
        def invariance_rate(predict, X, column, values):
            base = pd.Series(np.asarray(predict(X)))
            flips = [pd.Series(np.asarray(predict(X.assign(**{column: v})))) != base for v in values]
            if not flips:
                return 0.0
            return float(pd.concat(flips, axis=1).any(axis=1).mean())
        """,
        """
        def invariance_rate(predict, X, column, values):
            before = list(predict(X.copy()))
            changed = set()
            for value in values:
                trial = X.copy(deep=True)
                trial.loc[:, column] = [value] * len(trial)
                after = list(predict(trial))
                changed.update(i for i, (b, a) in enumerate(zip(before, after)) if b != a)
            return len(changed) / len(before)
        """,
    ],
}


# Straightforward answers, as a learner might first write them.
RIGHT_ANSWERS["validate"].append(
    """
        def validate_batch(df, schema):
            out = []
            for c in df.columns:
                if c not in schema:
                    out.append((c, "unexpected"))
            for c, r in schema.items():
                if c not in df.columns:
                    out.append((c, "missing"))
                    continue
                s = df[c]
                if not r.get("nullable", True) and s.isnull().any():
                    out.append((c, "nulls"))
                nn = s.dropna()
                if ("min" in r and (nn < r["min"]).any()) or ("max" in r and (nn > r["max"]).any()):
                    out.append((c, "range"))
                if "allowed" in r and (~nn.isin(r["allowed"])).any():
                    out.append((c, "category"))
            return sorted(set(out))
    """
)
RIGHT_ANSWERS["psi"].append(
    """
        def population_stability_index(expected, actual, bins=10):
            expected = np.asarray(expected, dtype=float); actual = np.asarray(actual, dtype=float)
            if len(expected) == 0 or len(actual) == 0:
                raise ValueError("empty")
            edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))[1:-1]
            e = np.array([np.mean(np.digitize(expected, edges) == i) for i in range(len(edges) + 1)])
            a = np.array([np.mean(np.digitize(actual, edges) == i) for i in range(len(edges) + 1)])
            e = np.where(e < 1e-4, 1e-4, e); a = np.where(a < 1e-4, 1e-4, a)
            return float(((a - e) * np.log(a / e)).sum())
    """
)
RIGHT_ANSWERS["ks"].append(
    """
        def ks_drift(reference, current, alpha=0.05):
            r = stats.ks_2samp(reference, current)
            return float(r.statistic), float(r.pvalue), bool(r.pvalue < alpha)
    """
)
RIGHT_ANSWERS["ece"].append(
    """
        def expected_calibration_error(y_true, y_prob, n_bins=10):
            y = np.asarray(y_true, dtype=float); p = np.asarray(y_prob, dtype=float)
            if len(y) != len(p): raise ValueError("length")
            if len(p) == 0: raise ValueError("empty")
            if (p < 0).any() or (p > 1).any(): raise ValueError("range")
            bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
            ece = 0.0
            for b in range(n_bins):
                m = bins == b
                if m.any():
                    ece += m.mean() * abs(y[m].mean() - p[m].mean())
            return ece
    """
)
RIGHT_ANSWERS["skew"].append(
    """
        def skew_rates(training, serving, key):
            if training[key].duplicated().any() or serving[key].duplicated().any():
                raise ValueError("dup")
            m = pd.merge(training, serving, on=key, suffixes=("_tr", "_sv"))
            if len(m) == 0:
                raise ValueError("no rows")
            out = {}
            for c in training.columns:
                if c == key or c not in serving.columns:
                    continue
                a, b = m[c + "_tr"], m[c + "_sv"]
                both_na = a.isna() & b.isna()
                one_na = a.isna() ^ b.isna()
                if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_numeric_dtype(b):
                    eq = pd.Series(np.isclose(b, a, rtol=1e-6, atol=1e-9), index=m.index)
                else:
                    eq = a.astype(object) == b.astype(object)
                eq = (eq & ~one_na) | both_na
                out[c] = float(1 - eq.mean())
            return out
    """
)
RIGHT_ANSWERS["invariance"].append(
    """
        def invariance_rate(predict, X, column, values):
            base = np.asarray(predict(X))
            flips = np.zeros(len(X), bool)
            for v in values:
                flips = flips | (np.asarray(predict(X.assign(**{column: v}))) != base)
            return float(np.mean(flips))
    """
)


@pytest.mark.parametrize(
    ("question", "number"),
    [(q, i) for q, codes in RIGHT_ANSWERS.items() for i in range(len(codes))],
    ids=[f"{q} #{i}" for q, codes in RIGHT_ANSWERS.items() for i in range(len(codes))],
)
def test_other_correct_answers_pass_every_check(tmp_path, question, number):
    outcomes = run_question(tmp_path, question, RIGHT_ANSWERS[question][number])
    problems = {key: message for key, message in outcomes.items() if message is not None}
    assert not problems, f"a correct answer was rejected: {problems}"
    assert any(question_of(g) == question for g in outcomes)


# --- the worked notebook ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worked(tmp_path_factory):
    """The worked notebook, executed once, and how long it took."""
    from nbclient import NotebookClient

    nb = nbformat.read(WORKED, as_version=4)
    folder = tmp_path_factory.mktemp("monitoring-notebook")
    start = time.monotonic()
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    return nb, time.monotonic() - start


def printed(nb: nbformat.NotebookNode, marker: str) -> str:
    """The text output of the code cell whose source contains ``marker``."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and marker in c.source)
    return "\n".join(
        o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs
    )


def test_worked_notebook_executes_within_its_budget(worked):
    nb, elapsed = worked
    errors = [
        o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors
    budget = nb.metadata["mle_handbook"]["budget_seconds"]
    assert elapsed < 2 * budget, f"the worked notebook took {elapsed:.1f} s (budget {budget} s)"
    assert "monitoring report for month 6" in printed(nb, "month_six = pd.DataFrame")


def test_the_exercise_quotes_the_worked_notebooks_month_six_report(worked):
    """The written question's copy of the report and trends holds the numbers the notebook computes."""
    nb, _ = worked
    report, trends = printed(nb, "month_six = pd.DataFrame"), printed(nb, "Trends, months 1 to 6")
    exercise = nbformat.read(NOTEBOOK, as_version=4)
    question = next(
        c.source for c in exercise.cells if c.source.startswith("## Question `interpret`")
    )
    for number in ["94", "606", "8.28", "0.32", "0.51", "0.35", "0.574", "0.178"]:
        assert number in report.split(), f"{number} is no longer in the notebook's month-six report"
        assert f"| {number} |" in question, f"{number} is missing from the exercise's copy"
    assert "2995" in report.split() and "| 2,995 |" in question
    for label, row in [
        ("failure rate", "0.277 0.298 0.351 0.383 0.395 0.426"),
        ("ECE", "0.018 0.043 0.076 0.162 0.175 0.574"),
        ("mean score", "0.259 0.256 0.275 0.221 0.219 1.000"),
    ]:
        assert f"{label} {row}" in " ".join(trends.split()), f"the notebook's {label} trend changed"
        assert f"| {label} | {row.replace(' ', ' | ')} |" in question, (
            f"the exercise's {label} trend differs"
        )
