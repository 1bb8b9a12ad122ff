"""The probability exercise's checks are honest.

Each plausible wrong answer listed in the exercise's issue fails the checks of its question, and
alternative correct answers (closed form or scipy.stats, loops or vectorised) pass every check.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:  # tests/exercise_harness.py, also when run without the conftest
    sys.path.insert(0, str(TESTS))

import exercise_harness as harness  # noqa: E402
from exercise_harness import check_outcomes, failed  # noqa: E402

NOTEBOOK = TESTS.parent / "exercises" / "probability.ipynb"
QUESTIONS = ["posterior", "at_least", "moments", "monte_carlo", "naive_bayes", "scores"]

pytestmark = pytest.mark.slow  # every test executes the whole exercise in this process


@pytest.fixture(autouse=True)
def _close_figures():
    """The exercise draws a reliability diagram on every run; do not let figures pile up."""
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def run(**replacements: str) -> dict[str, str | None]:
    """Execute the exercise with ``question=code`` replacing ``question-solution``."""
    return check_outcomes(
        NOTEBOOK,
        {f"{question}-solution": textwrap.dedent(code) for question, code in replacements.items()},
    )


def assert_rejected(outcomes: dict[str, str | None], question: str, *grade_ids: str) -> None:
    failing = failed(outcomes, question)
    assert failing, f"every {question} check passed a wrong answer"
    for grade_id in grade_ids:
        assert grade_id in failing, f"{grade_id} passed a wrong answer (failing: {failing})"


def assert_all_pass(outcomes: dict[str, str | None]) -> None:
    harness.assert_all_pass(outcomes, QUESTIONS)


# --- answers built from parts, so that each wrong answer differs from a right one in one place ---

VALIDATED_POSTERIOR = """
def posterior(prior, sensitivity, specificity):
    for value in (prior, sensitivity, specificity):
        if not 0 <= value <= 1:
            raise ValueError("arguments must be probabilities")
    numerator, denominator = {numerator}, {denominator}
    if denominator == 0:
        raise ValueError("a positive test is impossible")
    return numerator / denominator
"""


def posterior_code(numerator: str, denominator: str) -> str:
    return VALIDATED_POSTERIOR.format(numerator=numerator, denominator=denominator)


AT_LEAST = """
def prob_at_least(k, n, p):
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    return float({tail})
"""

MOMENTS = """
def mean_and_variance(values, probs):
    values, probs = np.asarray(values, dtype=float), np.asarray(probs, dtype=float)
    if values.shape != probs.shape or np.any(probs < 0) or abs(probs.sum() - 1) > 1e-9:
        raise ValueError("not a probability distribution")
    mean = float(np.sum(values * probs))
    return mean, float({variance})
"""

MONTE_CARLO = """
def estimate_probability(event, sample, n, seed):
    rng = np.random.default_rng(seed)
    hits = np.array([bool(event(sample({rng}))) for _ in range(n)])
    p_hat = hits.mean()
    return p_hat, {standard_error}
"""

NAIVE_BAYES = """
class GaussianNaiveBayes:
    def __init__(self, var_smoothing=1e-9):
        self.var_smoothing = var_smoothing

    def fit(self, X, y):
        X, y = np.asarray(X, dtype=float), np.asarray(y)
        self.classes_, counts = np.unique(y, return_counts=True)
        self.class_prior_ = {prior}
        self.theta_ = np.array([X[y == c].mean(axis=0) for c in self.classes_])
        spread = np.array([X[y == c].var(axis=0, ddof={ddof}) for c in self.classes_])
        self.var_ = spread + {epsilon}
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        squared = (X[:, None, :] - self.theta_[None]) ** 2 / self.var_
        joint = np.log(self.class_prior_) - 0.5 * (
            np.log(2 * np.pi * self.var_).sum(axis=1) + squared.sum(axis=2)
        )
        return np.exp(joint - special.logsumexp(joint, axis=1, keepdims=True))

    def predict(self, X):
        return {predict}
"""
NB_RIGHT = {
    "prior": "counts / counts.sum()",
    "ddof": "0",
    "epsilon": "self.var_smoothing * np.var(X, axis=0).max()",
    "predict": "self.classes_[np.argmax(self.predict_proba(X), axis=1)]",
}


def naive_bayes_code(**changes: str) -> str:
    return NAIVE_BAYES.format(**{**NB_RIGHT, **changes})


SCORES = """
def log_loss(y_true, p):
    y, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    p = {clip}
    return float({reduce}(-(y * {log}(p) + (1 - y) * {log}(1 - p))))


def brier_score(y_true, p):
    y, p = np.asarray(y_true, dtype=float), np.asarray(p, dtype=float)
    return float({brier})
"""
SCORES_RIGHT = {
    "clip": "np.clip(p, np.finfo(float).eps, 1 - np.finfo(float).eps)",
    "reduce": "np.mean",
    "log": "np.log",
    "brier": "np.mean((p - y) ** 2)",
}


def scores_code(**changes: str) -> str:
    return SCORES.format(**{**SCORES_RIGHT, **changes})


# --- the model answers ---------------------------------------------------------------------------


def test_model_answers_pass_every_check_and_every_cell_runs():
    outcomes = run()
    assert_all_pass(outcomes)
    assert len(outcomes) == 19


def test_building_blocks_of_these_tests_are_right_answers():
    """The templates below, left unchanged, pass: so each wrong answer fails for its one change."""
    outcomes = run(
        posterior=posterior_code(
            "prior * sensitivity", "prior * sensitivity + (1 - prior) * (1 - specificity)"
        ),
        at_least=AT_LEAST.format(tail="stats.binom.sf(k - 1, n, p)"),
        moments=MOMENTS.format(variance="np.sum(probs * (values - mean) ** 2)"),
        monte_carlo=MONTE_CARLO.format(
            rng="rng", standard_error="np.sqrt(p_hat * (1 - p_hat) / n)"
        ),
        naive_bayes=naive_bayes_code(),
        scores=scores_code(),
    )
    assert_all_pass(outcomes)


# --- the wrong answers the issue lists -----------------------------------------------------------


def test_posterior_checks_reject_ignoring_the_prior():
    outcomes = run(posterior=posterior_code("sensitivity", "sensitivity + (1 - specificity)"))
    assert_rejected(outcomes, "posterior", "posterior-examples", "posterior-edge-cases")


def test_posterior_checks_reject_swapping_sensitivity_and_specificity():
    outcomes = run(
        posterior=posterior_code(
            "prior * specificity", "prior * specificity + (1 - prior) * (1 - sensitivity)"
        )
    )
    assert_rejected(outcomes, "posterior", "posterior-examples")


def test_at_least_checks_reject_p_of_x_greater_than_k():
    outcomes = run(at_least=AT_LEAST.format(tail="stats.binom.sf(k, n, p)"))
    assert_rejected(outcomes, "at_least", "at_least-examples", "at_least-large-n")


def test_moments_checks_reject_e_of_x_squared_as_the_variance():
    outcomes = run(moments=MOMENTS.format(variance="np.sum(probs * values ** 2)"))
    assert_rejected(outcomes, "moments", "moments-examples")


def test_naive_bayes_checks_reject_sample_variance_with_ddof_1():
    outcomes = run(naive_bayes=naive_bayes_code(ddof="1"))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-fit", "naive_bayes-proba")


def test_scores_checks_reject_log_base_2():
    outcomes = run(scores=scores_code(log="np.log2"))
    assert_rejected(outcomes, "scores", "scores-log-loss", "scores-log-loss-edge-cases")


def test_scores_checks_reject_no_clipping():
    outcomes = run(scores=scores_code(clip="p"))
    assert_rejected(outcomes, "scores", "scores-log-loss-edge-cases")


def test_scores_checks_reject_summing_instead_of_averaging():
    outcomes = run(scores=scores_code(reduce="np.sum", brier="np.sum((p - y) ** 2)"))
    assert_rejected(outcomes, "scores", "scores-log-loss", "scores-brier")


# --- further plausible wrong answers -------------------------------------------------------------


def test_posterior_checks_reject_a_missing_impossible_positive_check():
    code = """
    def posterior(prior, sensitivity, specificity):
        for value in (prior, sensitivity, specificity):
            if not 0 <= value <= 1:
                raise ValueError("arguments must be probabilities")
        return prior * sensitivity / (prior * sensitivity + (1 - prior) * (1 - specificity))
    """
    assert_rejected(run(posterior=code), "posterior", "posterior-invalid")


def test_posterior_checks_reject_a_missing_range_check():
    code = """
    def posterior(prior, sensitivity, specificity):
        denominator = prior * sensitivity + (1 - prior) * (1 - specificity)
        if denominator == 0:
            raise ValueError("a positive test is impossible")
        return prior * sensitivity / denominator
    """
    assert_rejected(run(posterior=code), "posterior", "posterior-invalid")


def test_at_least_checks_reject_p_of_x_at_most_k():
    outcomes = run(at_least=AT_LEAST.format(tail="stats.binom.cdf(k, n, p)"))
    assert_rejected(outcomes, "at_least", "at_least-examples")


def test_at_least_checks_reject_ignoring_k_at_or_below_zero():
    code = """
    def prob_at_least(k, n, p):
        return float(sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(k, n + 1)))
    """
    assert_rejected(run(at_least=code), "at_least", "at_least-edge-cases")


def test_moments_checks_reject_checking_only_the_sum_of_probabilities():
    code = """
    def mean_and_variance(values, probs):
        values, probs = np.asarray(values, dtype=float), np.asarray(probs, dtype=float)
        if values.shape != probs.shape or abs(probs.sum() - 1) > 1e-9:
            raise ValueError("not a probability distribution")
        mean = float(np.sum(values * probs))
        return mean, float(np.sum(probs * (values - mean) ** 2))
    """
    assert_rejected(run(moments=code), "moments", "moments-invalid")


def test_moments_checks_reject_an_exact_sum_test():
    code = MOMENTS.format(variance="np.sum(probs * (values - mean) ** 2)").replace(
        "abs(probs.sum() - 1) > 1e-9", "sum(probs.tolist()) != 1"
    )
    assert_rejected(run(moments=code), "moments", "moments-invalid")


def test_moments_checks_reject_an_unweighted_variance():
    outcomes = run(moments=MOMENTS.format(variance="np.var(values)"))
    assert_rejected(outcomes, "moments", "moments-examples")


def test_monte_carlo_checks_reject_a_fresh_generator_for_every_draw():
    code = MONTE_CARLO.format(
        rng="np.random.default_rng(seed)", standard_error="np.sqrt(p_hat * (1 - p_hat) / n)"
    )
    assert_rejected(run(monte_carlo=code), "monte_carlo", "monte_carlo-estimate")


def test_monte_carlo_checks_reject_dividing_the_standard_deviation_by_n():
    code = MONTE_CARLO.format(rng="rng", standard_error="np.sqrt(p_hat * (1 - p_hat)) / n")
    assert_rejected(run(monte_carlo=code), "monte_carlo", "monte_carlo-standard-error")


def test_monte_carlo_checks_reject_the_sample_standard_deviation():
    code = MONTE_CARLO.format(rng="rng", standard_error="hits.std(ddof=1) / np.sqrt(n)")
    assert_rejected(run(monte_carlo=code), "monte_carlo", "monte_carlo-standard-error")


def test_monte_carlo_checks_reject_a_hard_coded_estimate_with_its_own_standard_error():
    """A standard error consistent with a made-up estimate is not the estimate's standard error."""
    code = """
    def estimate_probability(event, sample, n, seed):
        p_hat = 1 / 6
        return p_hat, math.sqrt(p_hat * (1 - p_hat) / n)
    """
    outcomes = run(monte_carlo=code)
    assert_rejected(outcomes, "monte_carlo", "monte_carlo-estimate", "monte_carlo-standard-error")
    assert "not the standard error of the fraction" in outcomes["monte_carlo-standard-error"]


def test_monte_carlo_checks_reject_the_true_probability_s_standard_error():
    """For a die the chance of a six is 1/6, but the check asks for the estimate's standard error."""
    code = MONTE_CARLO.format(rng="rng", standard_error="np.sqrt(1 / 6 * 5 / 6 / n)")
    assert_rejected(run(monte_carlo=code), "monte_carlo", "monte_carlo-standard-error")


def test_naive_bayes_checks_reject_leaving_out_the_smoothing():
    outcomes = run(naive_bayes=naive_bayes_code(epsilon="0"))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-smoothing")


def test_naive_bayes_checks_reject_unscaled_smoothing():
    outcomes = run(naive_bayes=naive_bayes_code(epsilon="self.var_smoothing"))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-smoothing")


def test_naive_bayes_checks_reject_equal_class_priors():
    outcomes = run(naive_bayes=naive_bayes_code(prior="np.full(len(counts), 1 / len(counts))"))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-fit", "naive_bayes-proba")


def test_naive_bayes_checks_reject_predicting_column_numbers_instead_of_labels():
    outcomes = run(naive_bayes=naive_bayes_code(predict="np.argmax(self.predict_proba(X), axis=1)"))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-predict")


def test_naive_bayes_checks_reject_breaking_ties_towards_the_last_class():
    predict = (
        "self.classes_[len(self.classes_) - 1 - np.argmax(self.predict_proba(X)[:, ::-1], axis=1)]"
    )
    outcomes = run(naive_bayes=naive_bayes_code(predict=predict))
    assert_rejected(outcomes, "naive_bayes", "naive_bayes-predict")


def test_scores_checks_reject_the_old_1e_15_clipping():
    outcomes = run(scores=scores_code(clip="np.clip(p, 1e-15, 1 - 1e-15)"))
    assert_rejected(outcomes, "scores", "scores-log-loss-edge-cases")


def test_scores_checks_reject_a_root_mean_squared_brier_score():
    outcomes = run(scores=scores_code(brier="np.sqrt(np.mean((p - y) ** 2))"))
    assert_rejected(outcomes, "scores", "scores-brier")


# --- alternative correct answers -----------------------------------------------------------------

CLOSED_FORM_LOOPS = {
    "posterior": """
        def posterior(prior, sensitivity, specificity):
            if any(value < 0 or value > 1 for value in (prior, sensitivity, specificity)):
                raise ValueError("every argument must lie in [0, 1]")
            # rows: has the condition or not; columns: positive or negative
            joint = [[prior * sensitivity, prior * (1 - sensitivity)],
                     [(1 - prior) * (1 - specificity), (1 - prior) * specificity]]
            p_positive = joint[0][0] + joint[1][0]
            if p_positive <= 0:
                raise ValueError("P(positive) is 0: a positive result cannot happen")
            return joint[0][0] / p_positive
    """,
    "at_least": """
        def prob_at_least(k, n, p):
            total = 0.0
            for i in range(max(k, 0), n + 1):
                total += math.comb(n, i) * p ** i * (1 - p) ** (n - i)
            return min(total, 1.0)
    """,
    "moments": """
        def mean_and_variance(values, probs):
            values, probs = list(values), list(probs)
            if len(values) != len(probs):
                raise ValueError("lengths differ")
            if any(q < 0 for q in probs):
                raise ValueError("negative probability")
            if not math.isclose(math.fsum(probs), 1.0, rel_tol=0, abs_tol=1e-9):
                raise ValueError("probabilities do not sum to 1")
            mean = 0.0
            square = 0.0
            for x, q in zip(values, probs):
                mean += x * q
                square += x * x * q
            return mean, square - mean * mean
    """,
    "monte_carlo": """
        def estimate_probability(event, sample, n, seed):
            rng = np.random.default_rng(seed)
            hits = 0
            for _ in range(n):
                if event(sample(rng)):
                    hits += 1
            p_hat = hits / n
            return (p_hat, (p_hat * (1 - p_hat) / n) ** 0.5)
    """,
    "naive_bayes": """
        class GaussianNaiveBayes:
            def __init__(self, var_smoothing=1e-9):
                self.var_smoothing = var_smoothing

            def fit(self, X, y):
                X = np.asarray(X, dtype=float)
                labels = list(y)
                self.classes_ = np.array(sorted(set(labels)))
                n_rows, n_features = X.shape
                spread = []
                for j in range(n_features):
                    column = X[:, j]
                    spread.append(((column - column.mean()) ** 2).mean())
                epsilon = self.var_smoothing * max(spread)
                priors, means, variances = [], [], []
                for c in self.classes_:
                    rows = X[[i for i, label in enumerate(labels) if label == c]]
                    priors.append(len(rows) / n_rows)
                    means.append(rows.mean(axis=0))
                    squares = ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
                    variances.append(squares / len(rows) + epsilon)
                self.class_prior_ = np.array(priors)
                self.theta_ = np.array(means)
                self.var_ = np.array(variances)
                return self

            def predict_proba(self, X):
                X = np.asarray(X, dtype=float)
                result = []
                for x in X:
                    # products of densities, not logs: fine for these data
                    joint = np.array([
                        prior * np.prod(stats.norm.pdf(x, loc=mean, scale=np.sqrt(variance)))
                        for prior, mean, variance in zip(self.class_prior_, self.theta_, self.var_)
                    ])
                    result.append(joint / joint.sum())
                return np.array(result)

            def predict(self, X):
                proba = self.predict_proba(X)
                best = []
                for row in proba:
                    k = 0
                    for j in range(1, len(row)):
                        if row[j] > row[k]:
                            k = j
                    best.append(self.classes_[k])
                return np.array(best)
    """,
    "scores": """
        def log_loss(y_true, p):
            eps = np.finfo(np.float64).eps
            total = 0.0
            count = 0
            for y, q in zip(y_true, p):
                q = min(max(float(q), eps), 1 - eps)
                total -= math.log(q) if y else math.log(1 - q)
                count += 1
            return total / count

        def brier_score(y_true, p):
            pairs = list(zip(y_true, p))
            return sum((float(q) - float(y)) ** 2 for y, q in pairs) / len(pairs)
    """,
}

SCIPY_VECTORISED = {
    "posterior": """
        def posterior(prior, sensitivity, specificity):
            values = np.array([prior, sensitivity, specificity], dtype=float)
            if np.any((values < 0) | (values > 1)):
                raise ValueError("prior, sensitivity and specificity must be in [0, 1]")
            likelihood = np.array([sensitivity, 1 - specificity])   # P(+ | D), P(+ | not D)
            weights = np.array([prior, 1 - prior]) * likelihood
            if weights.sum() == 0:
                raise ValueError("a positive result is impossible here")
            return float(weights[0] / weights.sum())
    """,
    "at_least": """
        def prob_at_least(k, n, p):
            if k <= 0:
                return 1.0
            return float(1 - stats.binom.cdf(k - 1, n, p))
    """,
    "moments": """
        def mean_and_variance(values, probs):
            values = np.asarray(values, dtype=float)
            probs = np.asarray(probs, dtype=float)
            sums_to_one = np.isclose(probs.sum(), 1, rtol=0, atol=1e-9)
            if len(values) != len(probs) or (probs < 0).any() or not sums_to_one:
                raise ValueError("invalid distribution")
            mean = np.average(values, weights=probs)
            return float(mean), float(np.average((values - mean) ** 2, weights=probs))
    """,
    "monte_carlo": """
        def estimate_probability(event, sample, n, seed):
            rng = np.random.default_rng(seed)
            outcomes = [sample(rng) for _ in range(n)]
            hits = np.fromiter((event(o) for o in outcomes), dtype=bool, count=n)
            p_hat = float(hits.mean())
            return p_hat, float(np.sqrt(p_hat * (1 - p_hat) / n))
    """,
    "naive_bayes": """
        class GaussianNaiveBayes:
            def __init__(self, var_smoothing=1e-9):
                self.var_smoothing = var_smoothing

            def fit(self, X, y):
                X = np.asarray(X, dtype=float)
                self.classes_, index = np.unique(np.asarray(y), return_inverse=True)
                onehot = np.eye(len(self.classes_))[index]          # rows x classes
                counts = onehot.sum(axis=0)
                self.class_prior_ = counts / len(X)
                self.theta_ = onehot.T @ X / counts[:, None]
                second = onehot.T @ X ** 2 / counts[:, None]
                self.var_ = second - self.theta_ ** 2 + self.var_smoothing * X.var(axis=0).max()
                return self

            def predict_proba(self, X):
                X = np.asarray(X, dtype=float)
                log_density = stats.norm.logpdf(
                    X[:, None, :], loc=self.theta_[None], scale=np.sqrt(self.var_)[None]
                ).sum(axis=2)
                joint = log_density + np.log(self.class_prior_)
                joint -= joint.max(axis=1, keepdims=True)
                proba = np.exp(joint)
                return proba / proba.sum(axis=1, keepdims=True)

            def predict(self, X):
                return self.classes_[self.predict_proba(X).argmax(axis=1)]
    """,
    "scores": """
        def log_loss(y_true, p):
            y = np.asarray(y_true, dtype=float)
            eps = np.finfo(np.float64).eps
            both = np.clip(np.column_stack([1 - np.asarray(p, dtype=float), p]), eps, 1 - eps)
            return float(-np.mean(special.xlogy(np.column_stack([1 - y, y]), both).sum(axis=1)))

        def brier_score(y_true, p):
            difference = np.asarray(p, dtype=float) - np.asarray(y_true, dtype=float)
            return float(difference @ difference / difference.size)
    """,
}


def test_closed_form_answers_with_loops_pass_every_check():
    assert_all_pass(run(**CLOSED_FORM_LOOPS))


def test_scipy_and_vectorised_answers_pass_every_check():
    assert_all_pass(run(**SCIPY_VECTORISED))
