"""Method names the run knows without importing the models: what `serve_methods` may name."""

from __future__ import annotations

# The popularity methods: SQL (popularity_recommendations), always served to everyone.
POPULARITY_METHODS: tuple[str, ...] = (
    "celebrity_count",
    "celebrity_sorted",
    "count",
    "more_performing",
    "tier_count",
    "trending",
)

# The models with lists for everyone (registry specs with serve=True): the run's default
# method and those named in `serve_methods` are served; the others on demand from their
# fitted parts. The registry test checks this list against the specs.
SERVABLE_METHODS: tuple[str, ...] = (
    "er_bias_baseline",
    "item_knn",
    "item_knn_bm25",
    "ease",
    "knn_baseline",
    "biased_mf",
    "er_biased_mf",
    "content",
    "hybrid",
    "artist_topics",
    "two_stage",
)
