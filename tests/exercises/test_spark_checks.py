"""The Spark exercise's checks are honest.

Each plausible wrong answer named in the exercise's issues (``count`` instead of ``countDistinct``,
an inner instead of a left join, nulls instead of zeros, ``rank`` instead of row-number semantics,
ascending instead of descending, a missing schema, items never bought ranked) and a few more fails
the checks of its question, with a message that names the mistake; alternative correct answers (Spark SQL instead of the
DataFrame API, other readers, other pipelines) pass every check.

A wrong answer is the model solution with one change. To keep the suite fast, one run of the
exercise tries one variant of several questions at once: the questions are checked independently
(each on reference inputs built by the set-up cell), so a wrong answer to one cannot fail another.
All runs share one embedded Spark session.
"""

from __future__ import annotations

import os
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

pytestmark = pytest.mark.slow

NOTEBOOK = TESTS.parent / "exercises" / "spark.ipynb"
QUESTIONS = ["load", "dau", "top_items", "features", "model", "sql"]
SETUP_CELLS = {"imports-setup", "reference-setup"}


def model_solution(question: str) -> str:
    return harness.model_solution(NOTEBOOK, question)


def mutate(question: str, old: str, new: str, *more: str) -> str:
    return harness.mutate(NOTEBOOK, question, old, new, *more)


# --- wrong answers ---------------------------------------------------------------------------------
# (question, what is wrong, answer, checks that must fail, words the first failure must contain)

FEATURES_COUNT_STAR = """
def user_features(events, users):
    is_purchase = F.col("event_type") == "purchase"
    joined = users.select("user_id", "region").join(events, "user_id", "left")
    return (
        joined.groupBy("user_id", "region")
        .agg(
            F.count("*").alias("n_events"),
            F.count(F.when(is_purchase, 1)).alias("n_purchases"),
            F.coalesce(F.sum(F.when(is_purchase, F.col("amount"))), F.lit(0.0)).alias("total_spent"),
            F.countDistinct(F.to_date("event_time")).alias("days_active"),
        )
        .orderBy("user_id")
    )
"""

MODEL_WITHOUT_INDEXER = """
def train_model(features, label_col, seed):
    train, test = features.randomSplit([0.75, 0.25], seed=seed)
    columns = ["n_events", "n_purchases", "total_spent", "days_active"]
    pipeline = Pipeline(
        stages=[
            VectorAssembler(inputCols=columns, outputCol="features"),
            DecisionTreeClassifier(labelCol=label_col, seed=seed),
        ]
    )
    model = pipeline.fit(train)
    evaluator = BinaryClassificationEvaluator(labelCol=label_col, rawPredictionCol="probability")
    return model, float(evaluator.evaluate(model.transform(test)))
"""

SQL_AS_DATAFRAME = """
def revenue_by_month_sql(spark, events):
    return (
        events.filter(F.col("event_type") == "purchase")
        .groupBy(F.date_format("event_time", "yyyy-MM").alias("month"))
        .agg(F.sum("amount").alias("revenue"))
        .orderBy("month")
    )
"""

WRONG_ANSWERS = [
    # load
    (
        "load",
        "no schema: the types are inferred",
        lambda: mutate("load", "header=True, schema=schema,", "header=True, inferSchema=True,"),
        {"load-schema"},
        "explicit schema",
    ),
    (
        "load",
        "malformed lines kept (the default PERMISSIVE mode)",
        lambda: mutate("load", ', mode="DROPMALFORMED")', ")"),
        {"load-rows", "load-edge-cases"},
        "Drop malformed lines",
    ),
    (
        "load",
        "every timestamp read as a string",
        lambda: mutate("load", "T.TimestampType()", "T.StringType()"),
        {"load-schema"},
        "event_time is string",
    ),
    # dau
    (
        "dau",
        "count instead of countDistinct",
        lambda: mutate("dau", 'F.countDistinct("user_id")', 'F.count("user_id")'),
        {"dau-examples", "dau-edge-cases"},
        "countDistinct",
    ),
    (
        "dau",
        "dates in descending order",
        lambda: mutate("dau", '.orderBy("date")', '.orderBy(F.desc("date"))'),
        {"dau-examples"},
        "not ordered by date",
    ),
    (
        "dau",
        "the date as a string",
        lambda: mutate(
            "dau", 'F.to_date("event_time")', 'F.date_format("event_time", "yyyy-MM-dd")'
        ),
        {"dau-examples", "dau-edge-cases"},
        "make it a date",
    ),
    # top_items
    (
        "top_items",
        "rank instead of row_number (ties share a rank)",
        lambda: mutate("top_items", "F.row_number()", "F.rank()", ', F.asc("item_id"))', ")"),
        {"top_items-examples", "top_items-ties"},
        "row-number semantics",
    ),
    (
        "top_items",
        "dense_rank instead of row_number (ties share a rank)",
        lambda: mutate("top_items", "F.row_number()", "F.dense_rank()", ', F.asc("item_id"))', ")"),
        {"top_items-examples", "top_items-ties"},
        "row-number semantics",
    ),
    (
        "top_items",
        "purchases in ascending order",
        lambda: mutate("top_items", 'F.desc("purchases")', 'F.asc("purchases")'),
        {"top_items-examples"},
        "must be the most purchased item",
    ),
    (
        "top_items",
        "ties broken by item_id descending",
        lambda: mutate("top_items", 'F.asc("item_id")', 'F.desc("item_id")'),
        {"top_items-examples", "top_items-ties"},
        "item_id ascending",
    ),
    (
        "top_items",
        "every event counted, not only purchases",
        lambda: mutate(
            "top_items", 'events.filter(F.col("event_type") == "purchase")\n        ', "events"
        ),
        {"top_items-examples"},
        "purchase events only",
    ),
    (
        "top_items",
        "items with events but no purchases ranked (purchases counted after grouping every event)",
        lambda: mutate(
            "top_items",
            'events.filter(F.col("event_type") == "purchase")\n        ',
            "events",
            'F.count("*")',
            'F.count(F.when(F.col("event_type") == "purchase", 1))',
        ),
        {"top_items-ties"},
        "never bought are not ranked",
    ),
    # features
    (
        "features",
        "inner instead of left join",
        lambda: mutate(
            "features", '.join(per_user, "user_id", "left")', '.join(per_user, "user_id")'
        ),
        {"features-examples", "features-edge-cases"},
        "left join",
    ),
    (
        "features",
        "nulls instead of zeros",
        lambda: mutate(
            "features",
            '        .fillna(0, subset=["n_events", "n_purchases", "days_active"])\n'
            '        .fillna(0.0, subset=["total_spent"])\n',
            "",
        ),
        {"features-examples", "features-edge-cases"},
        "zeros, not nulls",
    ),
    (
        "features",
        "count('*') after joining users to their events",
        lambda: textwrap.dedent(FEATURES_COUNT_STAR),
        {"features-examples", "features-edge-cases"},
        "count('*') after a left join",
    ),
    (
        "features",
        "every amount summed, add_to_cart lines too",
        lambda: mutate(
            "features",
            'F.sum(F.when(is_purchase, F.col("amount")).otherwise(0.0))',
            'F.sum(F.coalesce(F.col("amount"), F.lit(0.0)))',
        ),
        {"features-examples", "features-edge-cases"},
        "purchase events only",
    ),
    # model
    (
        "model",
        "the label assembled as a feature",
        lambda: mutate("model", '"days_active"],', '"days_active", label_col],'),
        {"model-pipeline"},
        "neither the label nor an id",
    ),
    (
        "model",
        "the AUC measured on the training rows",
        lambda: mutate(
            "model",
            "evaluator.evaluate(model.transform(test))",
            "evaluator.evaluate(model.transform(train))",
        ),
        {"model-auc"},
        "not on the training rows",
    ),
    (
        "model",
        "the AUC from rawPrediction (a tree's class counts)",
        lambda: mutate("model", 'rawPredictionCol="probability", ', ""),
        {"model-auc", "model-another-seed"},
        "class counts of a leaf",
    ),
    (
        "model",
        "no StringIndexer for the region",
        lambda: textwrap.dedent(MODEL_WITHOUT_INDEXER),
        {"model-pipeline"},
        "StringIndexer",
    ),
    # sql
    (
        "sql",
        "the DataFrame API instead of SQL",
        lambda: textwrap.dedent(SQL_AS_DATAFRAME),
        {"sql-uses-sql"},
        "never called spark.sql",
    ),
    (
        "sql",
        "every amount summed, add_to_cart lines too",
        lambda: mutate("sql", "WHERE event_type = 'purchase'", "WHERE amount IS NOT NULL"),
        {"sql-result"},
        "purchase events only",
    ),
]

# --- right answers written differently ---------------------------------------------------------------

RIGHT_ANSWERS = {
    "load": [
        """
        def load_events(spark, path):
            ddl = "user_id BIGINT, event_time TIMESTAMP, event_type STRING, item_id STRING, amount DOUBLE"
            return (
                spark.read.format("csv")
                .option("header", "true")
                .option("mode", "DROPMALFORMED")
                .schema(ddl)
                .load(path)
            )
        """,
        """
        def load_events(spark, path):
            schema = (
                "user_id LONG, event_time TIMESTAMP, event_type STRING, item_id STRING, "
                "amount DOUBLE, bad STRING"
            )
            frame = spark.read.csv(
                path, header=True, schema=schema, mode="PERMISSIVE", columnNameOfCorruptRecord="bad"
            )
            return frame.cache().filter(F.col("bad").isNull()).drop("bad")
        """,
    ],
    "dau": [
        """
        def daily_active_users(events):
            events.createOrReplaceTempView("dau_events")
            return events.sparkSession.sql(
                "SELECT to_date(event_time) AS date, COUNT(DISTINCT user_id) AS active_users "
                "FROM dau_events GROUP BY to_date(event_time) ORDER BY date"
            )
        """,
        """
        def daily_active_users(events):
            pairs = events.select(F.to_date("event_time").alias("date"), "user_id").distinct()
            return (
                pairs.groupBy("date").count()
                .withColumnRenamed("count", "active_users")
                .orderBy("date")
            )
        """,
    ],
    "top_items": [
        """
        def top_items_per_region(events, users, n):
            events.createOrReplaceTempView("top_events")
            users.createOrReplaceTempView("top_users")
            return events.sparkSession.sql(f'''
                WITH sales AS (
                    SELECT u.region, e.item_id, COUNT(*) AS purchases
                    FROM top_events e JOIN top_users u ON e.user_id = u.user_id
                    WHERE e.event_type = 'purchase'
                    GROUP BY u.region, e.item_id
                ), ranked AS (
                    SELECT *, ROW_NUMBER() OVER (
                        PARTITION BY region ORDER BY purchases DESC, item_id ASC) AS rank
                    FROM sales
                )
                SELECT region, item_id, purchases, rank FROM ranked
                WHERE rank <= {int(n)} ORDER BY region, rank
            ''')
        """,
        """
        def top_items_per_region(events, users, n):
            bought = events.where("event_type = 'purchase'").join(users, on="user_id", how="inner")
            sales = bought.groupBy("region", "item_id").agg(F.count(F.lit(1)).alias("purchases"))
            order = Window.partitionBy("region").orderBy(F.col("purchases").desc(), "item_id")
            ranked = sales.select("region", "item_id", "purchases", F.row_number().over(order).alias("rank"))
            return ranked.where(F.col("rank") <= n).sort("region", "rank")
        """,
    ],
    "features": [
        """
        def user_features(events, users):
            events.createOrReplaceTempView("feature_events")
            users.createOrReplaceTempView("feature_users")
            return events.sparkSession.sql('''
                SELECT u.user_id, u.region,
                       COUNT(e.user_id) AS n_events,
                       COUNT(CASE WHEN e.event_type = 'purchase' THEN 1 END) AS n_purchases,
                       COALESCE(SUM(CASE WHEN e.event_type = 'purchase' THEN e.amount END), 0.0)
                           AS total_spent,
                       COUNT(DISTINCT to_date(e.event_time)) AS days_active
                FROM feature_users u LEFT JOIN feature_events e ON e.user_id = u.user_id
                GROUP BY u.user_id, u.region
                ORDER BY u.user_id
            ''')
        """,
        """
        def user_features(events, users):
            purchase = events.event_type == "purchase"
            counts = events.groupBy("user_id").agg(
                F.count("*").alias("n_events"),
                F.sum(purchase.cast("long")).alias("n_purchases"),
                F.sum(F.when(purchase, events.amount)).alias("total_spent"),
                F.countDistinct(F.to_date("event_time")).alias("days_active"),
            )
            table = users.join(counts, "user_id", "left_outer").select(
                "user_id",
                "region",
                F.coalesce("n_events", F.lit(0)).alias("n_events"),
                F.coalesce("n_purchases", F.lit(0)).alias("n_purchases"),
                F.round(F.coalesce("total_spent", F.lit(0.0)), 2).alias("total_spent"),
                F.coalesce("days_active", F.lit(0)).alias("days_active"),
            )
            return table.orderBy("user_id")
        """,
    ],
    "model": [
        """
        from pyspark.ml.feature import OneHotEncoder

        def train_model(features, label_col, seed):
            train, test = features.randomSplit([0.75, 0.25], seed=seed)
            stages = [
                StringIndexer(inputCol="region", outputCol="region_i", handleInvalid="keep"),
                OneHotEncoder(inputCols=["region_i"], outputCols=["region_v"]),
                VectorAssembler(
                    inputCols=["region_v", "n_events", "n_purchases", "total_spent", "days_active"],
                    outputCol="x",
                ),
                DecisionTreeClassifier(labelCol=label_col, featuresCol="x", maxDepth=4),
            ]
            model = Pipeline(stages=stages).fit(train)
            scored = model.transform(test)
            evaluator = BinaryClassificationEvaluator(
                labelCol=label_col, rawPredictionCol="probability"
            )
            return model, evaluator.evaluate(scored)
        """,
        """
        from sklearn.metrics import roc_auc_score as sklearn_auc

        def train_model(features, label_col, seed):
            train, test = features.randomSplit([0.75, 0.25], seed=seed)
            columns = ["region_index", "n_events", "n_purchases", "total_spent", "days_active"]
            model = Pipeline(stages=[
                StringIndexer(inputCol="region", outputCol="region_index", handleInvalid="keep"),
                VectorAssembler(inputCols=columns, outputCol="features"),
                DecisionTreeClassifier(labelCol=label_col),
            ]).fit(train)
            rows = model.transform(test).select(label_col, "probability").collect()
            auc = sklearn_auc([r[0] for r in rows], [float(r[1][1]) for r in rows])
            return model, float(auc)
        """,
    ],
    "sql": [
        """
        def revenue_by_month_sql(spark, events):
            events.createOrReplaceTempView("purchases_by_month")
            return spark.sql('''
                WITH bought AS (
                    SELECT substr(CAST(event_time AS STRING), 1, 7) AS month, amount
                    FROM purchases_by_month
                    WHERE event_type = 'purchase'
                )
                SELECT month, ROUND(SUM(amount), 2) AS revenue
                FROM bought GROUP BY month ORDER BY month
            ''')
        """,
    ],
}


def rounds_of(variants: list[tuple[str, str]]) -> list[dict[str, str]]:
    """Group (question, key) pairs into runs with at most one variant per question."""
    runs: list[dict[str, str]] = []
    for question, key in variants:
        for run in runs:
            if question not in run:
                run[question] = key
                break
        else:
            runs.append({question: key})
    return runs


WRONG_ROUNDS = rounds_of([(w[0], w[1]) for w in WRONG_ANSWERS])
RIGHT_VARIANTS = [(q, str(i)) for q, codes in RIGHT_ANSWERS.items() for i in range(len(codes))]
RIGHT_ROUNDS = rounds_of(RIGHT_VARIANTS)


def trimmed_notebook(folder: Path, questions: set[str]) -> Path:
    """The exercise with only the set-up cells and the cells of ``questions`` (to save time)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    keep = []
    for cell in nb.cells:
        grade_id = cell_kind(cell).grade_id
        if cell.cell_type == "code" and (
            grade_id in SETUP_CELLS or (grade_id and question_of(grade_id) in questions)
        ):
            keep.append(cell)
    nb.cells = keep
    path = folder / f"spark-{'-'.join(sorted(questions))}.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def spark():
    """One embedded session for every run; the exercise's set-up cell reuses it."""
    from mle_handbook.spark import get_spark

    session = get_spark("spark-exercise-checks")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def run(spark, tmp_path_factory):
    """Run the exercise with chosen answers (cached per set of answers), from its own folder."""
    folder = tmp_path_factory.mktemp("spark-checks")
    cache: dict[tuple, dict[str, str | None]] = {}

    def _run(answers: dict[str, str]) -> dict[str, str | None]:
        key = tuple(sorted(answers.items()))
        if key not in cache:
            path = trimmed_notebook(folder, set(answers))
            here = os.getcwd()
            os.chdir(NOTEBOOK.parent)  # the exercise reads data/ relative to itself
            try:
                cache[key] = check_outcomes(
                    path,
                    {f"{q}-solution": code for q, code in answers.items()},
                    namespace={"spark": spark},
                )
            finally:
                os.chdir(here)
                spark.catalog.clearCache()
        return cache[key]

    return _run


def wrong_round_outcomes(run, question: str, what: str) -> dict[str, str | None]:
    by_name = {(w[0], w[1]): w[2] for w in WRONG_ANSWERS}
    for answers in WRONG_ROUNDS:
        if answers.get(question) == what:
            return run({q: by_name[(q, name)]() for q, name in answers.items()})
    raise KeyError((question, what))


@pytest.mark.parametrize(
    "question, what, answer, must_fail, words",
    WRONG_ANSWERS,
    ids=[f"{w[0]}: {w[1]}" for w in WRONG_ANSWERS],
)
def test_checks_reject_wrong_answer(run, question, what, answer, must_fail, words):
    outcomes = wrong_round_outcomes(run, question, what)
    setup_errors = {k: v for k, v in outcomes.items() if k.startswith("<cell")}
    assert not setup_errors, f"cells outside the checks failed: {setup_errors}"
    failing = set(failed(outcomes, question))
    assert must_fail <= failing, (
        f"{question} answered with '{what}': {sorted(must_fail - failing)} passed; outcomes: "
        f"{ {k: v for k, v in outcomes.items() if question_of(k) == question} }"
    )
    messages = " ".join(outcomes[g] for g in sorted(must_fail))
    assert words in messages, (
        f"no failure message of {sorted(must_fail)} says {words!r}: {messages}"
    )


@pytest.mark.parametrize(
    "answers", RIGHT_ROUNDS, ids=lambda a: ", ".join(f"{q} #{i}" for q, i in a.items())
)
def test_checks_accept_other_correct_answers(run, answers):
    outcomes = run({q: textwrap.dedent(RIGHT_ANSWERS[q][int(i)]) for q, i in answers.items()})
    not_passed = {k: v for k, v in outcomes.items() if v is not None}
    assert not not_passed, f"correct answers failed: {not_passed}"
    assert {question_of(k) for k in outcomes} == set(answers)


def test_checks_pass_on_the_model_solutions(run):
    outcomes = run({q: model_solution(q) for q in QUESTIONS})
    assert outcomes and all(v is None for v in outcomes.values()), outcomes
