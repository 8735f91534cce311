"""The whole dataset in memory, no files: plant the truth, then the dirt, then the row order."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from models_py.synth.dirt import (
    DIRT_BIT,
    DIRT_KINDS,
    INFLUENCER_RULES,
    REJECT_RULES,
    expected_rules,
    harmless_dirt,
    has_dirt,
    influencer_dirt,
    rejecting_row_dirt,
)
from models_py.synth.influencers import bios, influencer_numbers, person_names
from models_py.synth.ratings import plant_rows
from models_py.synth.settings import (
    TIERS,
    DirtRates,
    ModelParams,
    songs_per_user_cap,
    validate_sizes,
)
from models_py.synth.songs import song_catalogue
from models_py.synth.text import concat
from models_py.synth.usage import sample_pairs, songs_per_user, usage_model

# One independent random stream per stage, so tuning one stage never reshuffles the others.
STAGES = ("inf", "text", "songs", "counts", "pairs", "ratings", "rows", "dirt", "fmt", "order")
# Per-row harmless-dirt fields, filled in by `harmless_dirt`: (dtype, "none" value).
HARMLESS_ROW_FIELDS: dict[str, tuple[type, Any]] = {
    "null_token": (np.int8, -1),
    "pad_column": (np.int8, -1),
    "pad_style": (np.int8, 0),
    "url_variant": (np.int8, 0),
    "url_query": (np.int8, 0),
    "thousands_sep": (bool, False),
    "er_percent": (bool, False),
    "followers_abbrev": (bool, False),
    "time_text": (bool, False),
}


@dataclass
class Planted:
    """In-memory dataset: entity tables, rows in final written order, and the summary."""

    inf: dict[str, Any]
    songs: dict[str, Any]
    rows: dict[str, np.ndarray]
    params: dict[str, Any]


def _stage_streams(seed: int) -> dict[str, np.random.Generator]:
    seeds = np.random.SeedSequence(seed).spawn(len(STAGES))
    return {stage: np.random.default_rng(s) for stage, s in zip(STAGES, seeds, strict=True)}


def _plant_influencers(
    streams: dict[str, np.random.Generator],
    n_influencers: int,
    n_celebrities: int,
    rates: DirtRates,
    model: ModelParams,
) -> dict[str, Any]:
    """Numbers, text and latent truth (b_u tied to ER so Curr_ER rarely goes negative)."""
    n_users = n_influencers + n_celebrities
    influencers: dict[str, Any] = influencer_numbers(streams["inf"], n_influencers, n_celebrities)
    clean_er = influencers["er"].copy()
    text_rng = streams["text"]
    influencers["name"], influencers["handle"] = person_names(text_rng, n_users)
    influencers["bio"] = bios(text_rng, n_users)
    influencers["blank_name"] = text_rng.random(n_users) < rates.blank_name
    influencers["blank_bio"] = text_rng.random(n_users) < rates.blank_bio
    latent_rng = streams["inf"]
    noise = latent_rng.normal(0, model.user_bias_sd, n_users)
    influencers["bias"] = -model.er_slope * (clean_er - model.er_ref) + noise
    influencers["factors"] = latent_rng.normal(0, model.user_factor_sd, (n_users, model.k))
    return influencers


def simulate(
    *,
    seed: int = 42,
    n_influencers: int = 10_000,
    n_celebrities: int = 2_000,
    n_songs: int = 10_000,
    n_rows: int | None = None,
    rates: DirtRates | None = None,
    model: ModelParams | None = None,
) -> Planted:
    """Plant the truth and the dirt; rows come back in final written order."""
    rates, model = rates or DirtRates(), model or ModelParams()
    n_rows, n_duplicates = validate_sizes(n_influencers, n_celebrities, n_songs, n_rows, rates)
    streams = _stage_streams(seed)

    influencers = _plant_influencers(streams, n_influencers, n_celebrities, rates, model)
    songs = song_catalogue(streams["songs"], n_songs, model, rates.blank_release)
    wanted = songs_per_user(
        streams["counts"],
        n_influencers + n_celebrities,
        n_rows - n_duplicates,
        songs_per_user_cap(n_songs),
        model.songs_per_user_sigma,
    )
    influencer_dirt(streams["dirt"], influencers, wanted, rates)
    influencers["url"] = concat("https://www.instagram.com/", influencers["handle"], "/")
    usage = usage_model(songs, influencers["factors"], wanted, model)
    user, song = sample_pairs(streams["pairs"], wanted, usage, model.candidate_multiplier)
    songs["usage_log_weight"] = usage.song_log_weight()
    songs["genre_offset"] = usage.genre_offset
    rows = plant_rows(streams["ratings"], streams["rows"], influencers, songs, user, song, model)
    n_planted = user.size

    # Dirt: rejecting kinds first (exclusive per row), then duplicates, then harmless kinds.
    originals = rejecting_row_dirt(streams["dirt"], rows, influencers, rates, n_rows, n_duplicates)
    rows = {key: np.concatenate([v, v[originals]]) for key, v in rows.items()}
    rows["bits"][n_planted:] = DIRT_BIT["duplicate_url_song"]
    n_written = rows["user"].size
    for key, (dtype, none) in HARMLESS_ROW_FIELDS.items():
        rows[key] = np.full(n_written, none, dtype=dtype)
    harmless_dirt(streams["fmt"], rows, influencers, songs, rates)

    final = _output_order(streams["order"], rows["song"][:n_planted], originals)
    rows = {key: v[final] for key, v in rows.items()}
    params = _summary_params(
        seed, n_influencers, n_celebrities, n_songs, model, rates, influencers, songs, rows
    )
    return Planted(influencers, songs, rows, params)


def _output_order(rng: np.random.Generator, song: np.ndarray, originals: np.ndarray) -> np.ndarray:
    """Planted rows by Song id (song index == sorted id), like the report; each duplicate copy
    (appended after the planted rows) lands after its original: half right behind it, half
    anywhere later (possibly in the next file)."""
    n_planted, n_copies = song.size, originals.size
    position = np.empty(n_planted)
    position[np.lexsort((rng.random(n_planted), song))] = np.arange(n_planted)
    original_position = position[originals]
    far = original_position + 1 + rng.random(n_copies) * (n_planted - 1 - original_position)
    behind = original_position + 0.5
    copy_position = np.where(rng.random(n_copies) < 0.5, behind, np.maximum(far, behind))
    return np.argsort(np.concatenate([position, copy_position]), kind="stable")


def _summary_params(
    seed: int,
    n_influencers: int,
    n_celebrities: int,
    n_songs: int,
    model: ModelParams,
    rates: DirtRates,
    influencers: dict[str, Any],
    songs: dict[str, Any],
    rows: dict[str, np.ndarray],
) -> dict[str, Any]:
    """params.json: what was asked for, what came out, and what the pipeline must find."""
    bits = rows["bits"]
    rule = expected_rules(bits)
    planted = ~has_dirt(bits, "duplicate_url_song")
    return {
        "seed": seed,
        "mu": model.mu,
        "sigma": model.sigma,
        "k": model.k,
        "explained_variance_share": {
            "planted": songs["explained_share_planted"],
            "realised": songs["explained_share_realised"],
        },
        "rule_precedence": list(REJECT_RULES),
        "sizes": {
            "n_influencers": n_influencers,
            "n_celebrities": n_celebrities,
            "n_influencers_total": n_influencers + n_celebrities,
            "tiers": {tier: int((influencers["tier"] == i).sum()) for i, tier in enumerate(TIERS)},
            "n_songs": n_songs,
            "n_artists": songs["n_artists"],
            "n_rows": int(bits.size),
            "n_planted_rows": int(planted.sum()),
            "n_duplicate_rows": int((~planted).sum()),
        },
        "model": asdict(model)
        | {
            "formula": "Delta = mu + b_u + b_i + p_u.q_i + N(0, sigma)",
            "b_u": "-er_slope * (ER - er_ref) + N(0, user_bias_sd)",
            "q_i": "artist_effect (genre + own) + decade_effect + residual",
        },
        "usage": _usage_summary(model, songs),
        "dirt_rates": asdict(rates),
        "dirt_counts": {kind: int(has_dirt(bits, kind).sum()) for kind in DIRT_KINDS},  # rows
        "dirty_influencers": {
            name: int((influencers["dirty_rule"] == REJECT_RULES.index(name)).sum())
            for name in INFLUENCER_RULES
        },
        "expected": {
            "clean_rows": int((rule < 0).sum()),
            "quarantined_rows": int((rule >= 0).sum()),
            "quarantined_by_rule": {
                name: int((rule == i).sum()) for i, name in enumerate(REJECT_RULES)
            },
        },
        "censored_rows": int(rows["censored"].sum()),  # written rows, as in rows.parquet
        "delta_stats": _delta_stats(rows["delta"][planted]),
        "top_song_user_counts": _top_song_user_counts(rows["song"][planted], n_songs),
    }


def _usage_summary(model: ModelParams, songs: dict[str, Any]) -> dict[str, Any]:
    """The planted usage model, as the oracle reads it (songs.parquet has s_i and g_i)."""
    return {
        "formula": "P(u uses i) ~ w_ui = exp(s_i + genre_alpha * p_u.g_i"
        " + affinity_alpha * p_u.q_i), drawn without replacement",
        "s_i": "usage_log_weight = log(popularity_i / popularity of its genre) + b_genre",
        "g_i": "genre_factor_*: the genre part of q_i (artist effect = genre + own)",
        "b_genre": "offsets calibrated so each genre's expected share of uses is its "
        "popularity share: taste moves who uses a genre, not how much",
        "genre_alpha": model.genre_alpha,
        "affinity_alpha": model.affinity_alpha,
        "n_genres": model.n_genres,
        "genre_offsets": songs["genre_offset"].tolist(),
        "candidates": f"per influencer, candidate_multiplier ({model.candidate_multiplier})"
        " x wanted draws with replacement (a genre by taste, then a song by popularity); "
        "Gumbel top-k of log(times drawn) + affinity_alpha p_u.q_i keeps wanted distinct",
    }


def _delta_stats(delta: np.ndarray) -> dict[str, float]:
    return {
        "min": float(delta.min()),
        "max": float(delta.max()),
        "mean": float(delta.mean()),
        "sd": float(delta.std()),
        "p01": float(np.quantile(delta, 0.01)),
        "p99": float(np.quantile(delta, 0.99)),
        "share_gt_4": float((delta > 4).mean()),
    }


def _top_song_user_counts(song: np.ndarray, n_songs: int) -> list[int]:
    """Influencers using each of the ten most used songs (planted rows: one per pair)."""
    return np.sort(np.bincount(song, minlength=n_songs))[::-1][:10].tolist()
