"""`python -m bench http`: throughput and latency of the public site under gunicorn.

The baseline is /healthz, a view that does nothing, behind the full middleware stack: what
Django and gunicorn cost on this machine. The home page (/es/) is compared with it, so the
target holds on fast and slow machines alike, twice: `home_cached` is what the public page cache
serves (a hit on every request but the first), `home_uncached` comes from a second gunicorn on
the same database with `PUBLIC_PAGE_CACHE_SECONDS=0`, which renders the page every time (a
separate server rather than a cache-defeating URL, which would measure the cache's key handling
too). Rounds alternate the three, so a disturbance on the machine hits all, and medians across
rounds are reported.
"""

from __future__ import annotations

import argparse
import http.client
from collections.abc import Sequence
from urllib.parse import urlsplit

from bench import harness, loadgen, server
from bench.harness import BenchError, Report, at_least, at_most, progress

BENCH = "http"
# Figure name: (server, path); the uncached server has the public page cache off.
PAGES = {
    "baseline": ("cached", "/healthz"),
    "home_cached": ("cached", "/es/"),
    "home_uncached": ("uncached", "/es/"),
}
WARMUP_REQUESTS = 20  # per page: compiles templates and fills caches before measuring

HOME_CACHED_VS_BASELINE_GOAL = 0.5  # a cached home keeps half the throughput of a bare view
HOME_P99_MS_GOAL = 250.0  # what a visitor waits for, cache hit or miss


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
        "--workers", type=harness.positive_int, default=2, help="gunicorn workers (default: 2)"
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


def warm_up(url: str) -> None:
    """Send a few requests one by one; stop the bench if the page does not answer 200."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        for _ in range(WARMUP_REQUESTS):
            connection.request("GET", parts.path)
            response = connection.getresponse()
            body = response.read()
            if response.status != 200:
                excerpt = body[:200].decode("utf-8", "replace")
                raise BenchError(f"GET {parts.path} answered {response.status}: {excerpt}")
    except (OSError, http.client.HTTPException) as error:
        raise BenchError(f"GET {parts.path} failed: {error}") from error
    finally:
        connection.close()


def measure(options: argparse.Namespace) -> Report:
    generator = loadgen.available_generator(options.load_generator)
    env = server.production_environ(options.database_url)
    if not options.skip_setup:
        server.prepare_project(env)
    results: dict[str, list[loadgen.LoadResult]] = {page: [] for page in PAGES}
    uncached_env = {**env, "PUBLIC_PAGE_CACHE_SECONDS": "0"}
    with (
        server.gunicorn(env, workers=options.workers) as cached_url,
        server.gunicorn(uncached_env, workers=options.workers) as uncached_url,
    ):
        servers = {"cached": cached_url, "uncached": uncached_url}
        urls = {page: servers[which] + path for page, (which, path) in PAGES.items()}
        for url in urls.values():
            warm_up(url)
        for round_number in range(1, options.rounds + 1):
            for page, url in urls.items():
                result = loadgen.generate_load(
                    generator, url, duration=options.duration, connections=options.connections
                )
                results[page].append(result)
                progress(
                    f"round {round_number}/{options.rounds} {page:<14} "
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
    }
    for page, page_results in results.items():
        figures[f"{page}_rps"] = round(harness.median(r.rps for r in page_results), 1)
        figures[f"{page}_p50_ms"] = round(harness.median(r.p50_ms for r in page_results), 2)
        figures[f"{page}_p99_ms"] = round(harness.median(r.p99_ms for r in page_results), 2)
    baseline_rps = harness.median(r.rps for r in results["baseline"])
    ratios = {
        page: round(harness.median(r.rps for r in results[page]) / baseline_rps, 3)
        if baseline_rps
        else 0.0
        for page in ("home_cached", "home_uncached")
    }
    for page, ratio in ratios.items():
        figures[f"{page}_vs_baseline"] = ratio
    errors = sum(r.errors for page_results in results.values() for r in page_results)
    figures["requests"] = sum(r.requests for page_results in results.values() for r in page_results)
    figures["errors"] = errors
    if errors:
        progress(f"{errors} requests failed (not 200, or socket errors)")

    p99 = {page: round(harness.median(r.p99_ms for r in results[page]), 2) for page in results}
    targets = {
        "home_cached_vs_baseline": at_least(ratios["home_cached"], HOME_CACHED_VS_BASELINE_GOAL),
        "home_cached_p99_ms": at_most(p99["home_cached"], HOME_P99_MS_GOAL),
        "home_uncached_p99_ms": at_most(p99["home_uncached"], HOME_P99_MS_GOAL),
    }
    return Report(figures=figures, targets=targets, failed=errors > 0)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_options(argv)
    return harness.run(BENCH, lambda: measure(options))
