"""`python -m bench pages`: an article page, cached and uncached, and the home page under gunicorn.

The baseline is /healthz, as in `bench http`: a view doing nothing behind the full middleware
stack. The article is a live demo article in Spanish, served by two gunicorns on the same
database: the normal one (public page cache on) and one started with
`PUBLIC_PAGE_CACHE_SECONDS=0`, so that every request renders the page. A separate server is the
honest way to measure the uncached page: defeating the cache with a varying URL would also
test the cache's key handling. Rounds alternate the four pages so that a disturbance on the
machine hits them all; medians across rounds are reported.

The query count comes from one render of the article with the page cache off, in a separate
Django process against the bench's database, after a first render has warmed per-process state
(as a running server is).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bench import harness, loadgen, server
from bench.harness import PROJECT_DIR, BenchError, Report, at_least, at_most, progress
from bench.http import warm_up

BENCH = "pages"

ARTICLE_CACHED_VS_BASELINE_GOAL = 0.8  # a cached page costs little more than a bare view
ARTICLE_UNCACHED_VS_BASELINE_GOAL = 0.3
ARTICLE_UNCACHED_QUERIES_GOAL = 6


def parse_options(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = harness.parser_for(BENCH, __doc__.splitlines()[0] if __doc__ else BENCH)
    harness.add_database_argument(parser)
    parser.add_argument(
        "--rounds", type=harness.positive_int, default=3, help="rounds per page (default: 3)"
    )
    parser.add_argument(
        "--duration",
        type=harness.positive_int,
        default=5,
        metavar="SECONDS",
        help="length of each round (default: 5)",
    )
    parser.add_argument(
        "--connections",
        type=harness.positive_int,
        default=8,
        help="concurrent connections (default: 8)",
    )
    parser.add_argument(
        "--workers",
        type=harness.positive_int,
        default=2,
        help="gunicorn workers per server (default: 2)",
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="wrk if on PATH, else Python (default: auto)",
    )
    parser.add_argument(
        "--skip-setup",
        action="store_true",
        help="do not migrate, seed or collect static files first",
    )
    return parser.parse_args(argv)


# --- The article and its queries --------------------------------------------------------------


@dataclass(frozen=True)
class ArticleProbe:
    """The article the bench requests, and the SQL one uncached render of it runs."""

    path: str
    queries: list[str]


def article_probe() -> None:
    """Print the article's path and its uncached queries as one JSON line (child process).

    Runs with Django configured from the environment, so it sees the bench's database.
    """
    import django

    django.setup()
    print(json.dumps(_article_probe_answer()))


def _article_probe_answer() -> dict[str, Any]:
    """The first live demo article in Spanish (in the demo's order, so runs compare), and the
    SQL of its second render with no page cache and no kept fragments: the first fills
    per-process state, as a running server has."""
    from django.db import DatabaseError, connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.urls import reverse
    from django.utils import translation

    from content.demo import ARTICLES
    from content.selectors import articles_live, in_language

    demo_slugs = [article.slug for article in ARTICLES]
    with translation.override("es"):
        try:
            live = set(
                in_language(articles_live())
                .filter(slug_es__in=demo_slugs)
                .values_list("slug_es", flat=True)
            )
        except DatabaseError as error:
            return {"error": f"the database is not ready ({error}); run without --skip-setup"}
        slug = next((slug for slug in demo_slugs if slug in live), None)
        if slug is None:
            return {"error": "no live demo article in Spanish: run without --skip-setup"}
        path = reverse("content:article-detail", kwargs={"slug": slug})

    client = Client(HTTP_HOST=server.HOST)
    # Neither the page cache nor the kept fragments: the queries of a render from scratch, what
    # the first visitor after a publish or an edit costs.
    with override_settings(PUBLIC_PAGE_CACHE_SECONDS=0, PUBLIC_FRAGMENT_CACHE_SECONDS=0):
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
    if response.status_code != 200:
        return {"error": f"GET {path} answered {response.status_code}"}
    return {"path": path, "queries": [query["sql"] for query in captured.captured_queries]}


def probe_article(env: dict[str, str]) -> ArticleProbe:
    """Run `article_probe` in a Django process on the bench's environment."""
    progress("finding the demo article and counting its queries uncached")
    completed = subprocess.run(
        [sys.executable, "-c", "from bench.pages import article_probe; article_probe()"],
        cwd=PROJECT_DIR,
        env={"DJANGO_SETTINGS_MODULE": "inbound.settings", **env},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    lines = completed.stdout.strip().splitlines()
    if completed.returncode != 0 or not lines:
        raise BenchError(f"probing the article exited with {completed.returncode}")
    try:
        answer = json.loads(lines[-1])
    except json.JSONDecodeError:
        raise BenchError(f"probing the article printed {lines[-1][:200]!r}") from None
    if "error" in answer:
        raise BenchError(answer["error"])
    return ArticleProbe(path=answer["path"], queries=answer["queries"])


# --- Load --------------------------------------------------------------------------------------


def measure(options: argparse.Namespace) -> Report:
    generator = loadgen.available_generator(options.load_generator)
    env = server.production_environ(options.database_url)
    if not options.skip_setup:
        server.prepare_project(env)
    article = probe_article(env)
    queries = len(article.queries)
    progress(f"article {article.path}: {queries} queries uncached")
    if queries > ARTICLE_UNCACHED_QUERIES_GOAL:
        for number, sql in enumerate(article.queries, start=1):
            progress(f"  query {number}: {sql[:300]}")

    uncached_env = {**env, "PUBLIC_PAGE_CACHE_SECONDS": "0"}
    results: dict[str, list[loadgen.LoadResult]] = {}
    with (
        server.gunicorn(env, workers=options.workers) as cached_url,
        server.gunicorn(uncached_env, workers=options.workers) as uncached_url,
    ):
        pages = {
            "baseline": cached_url + "/healthz",
            "article_cached": cached_url + article.path,
            "article_uncached": uncached_url + article.path,
            "home_cached": cached_url + "/es/",
        }
        for url in pages.values():
            warm_up(url)
        for round_number in range(1, options.rounds + 1):
            for page, url in pages.items():
                result = loadgen.generate_load(
                    generator, url, duration=options.duration, connections=options.connections
                )
                results.setdefault(page, []).append(result)
                progress(
                    f"round {round_number}/{options.rounds} {page:<16} "
                    f"{result.rps:8.1f} req/s  p50 {result.p50_ms:7.2f} ms  "
                    f"p99 {result.p99_ms:7.2f} ms  errors {result.errors}"
                )

    figures: dict[str, harness.Figure] = {
        "load_generator": generator,
        "database": harness.database_vendor(options.database_url),
        "rounds": options.rounds,
        "duration_s": options.duration,
        "connections": options.connections,
        "workers": options.workers,
        "article_path": article.path,
    }
    rps: dict[str, float] = {}
    for page, page_results in results.items():
        rps[page] = harness.median(r.rps for r in page_results)
        figures[f"{page}_rps"] = round(rps[page], 1)
        figures[f"{page}_p50_ms"] = round(harness.median(r.p50_ms for r in page_results), 2)
        figures[f"{page}_p99_ms"] = round(harness.median(r.p99_ms for r in page_results), 2)
    ratios = {
        page: round(rps[page] / rps["baseline"], 3) if rps["baseline"] else 0.0
        for page in ("article_cached", "article_uncached", "home_cached")
    }
    for page, ratio in ratios.items():
        figures[f"{page}_vs_baseline"] = ratio
    figures["article_uncached_queries"] = queries
    errors = sum(r.errors for page_results in results.values() for r in page_results)
    figures["requests"] = sum(r.requests for page_results in results.values() for r in page_results)
    figures["errors"] = errors
    if errors:
        progress(f"{errors} requests failed (not 200, or socket errors)")

    targets = {
        "article_cached_vs_baseline": at_least(
            ratios["article_cached"], ARTICLE_CACHED_VS_BASELINE_GOAL
        ),
        "article_uncached_vs_baseline": at_least(
            ratios["article_uncached"], ARTICLE_UNCACHED_VS_BASELINE_GOAL
        ),
        "article_uncached_queries": at_most(queries, ARTICLE_UNCACHED_QUERIES_GOAL),
    }
    return Report(figures=figures, targets=targets, failed=errors > 0)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
