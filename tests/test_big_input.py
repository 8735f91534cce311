"""Big input: millions of rows load and build within a memory ceiling.

A 10M-row parquet input must load and build without exceeding memory. DuckDB writes a
parquet of text columns shaped like the generator's, with dirt planted at known rows, and a
child process whose peak memory is measured runs the real loader and the whole dbt build a
run makes before the models (cleaning, audit, popularity, evaluation splits, marts, and every
test on them: `--exclude source:scores+`, as `reelrec run` does), then checks the audit
counts. It is the `big` tier: `make test-big` runs the full 10M rows with DuckDB held to
10 GB, peak RSS under the 12 GB ceiling; REELREC_BIG_ROWS=1000000 runs 1M for a quicker
local pass.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import duckdb
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.big]

# The hardening issue asks for 10M rows; REELREC_BIG_ROWS=1000000 for a quicker local pass.
ROWS = int(os.environ.get("REELREC_BIG_ROWS", 10_000_000))
SONGS = 100_000
PEAK_RSS_LIMIT_GB = 12
# Every 100,000 rows, three carry dirt: offset 1 Followers "lots" (unparseable_number),
# offset 2 ER 15.5 (er_over_max), offset 5 the song of the valid row before it, for the same
# influencer (duplicate_url_song).

SONG = "'SO' || lpad(cast({n} as varchar), 16, '0')"
GENERATE = f"""
copy (
    select
        case when i % 100000 = 5 then {SONG.format(n="(i - 1) % " + str(SONGS))}
             else {SONG.format(n="i % " + str(SONGS))} end as "Song",
        cast(1 + i % 3 as varchar) as use_count,
        'Person ' || (i // 10) as "Name",
        case when i % 100000 = 1 then 'lots'
             else format('{{:,}}', 5000 + (i // 10) % 500000) end as "Followers",
        cast(300 + i % 1000 as varchar) as "Posts",
        'Bio of ' || (i // 10) || ' 🎵 | Fashion | Travel' as "Bio",
        'https://www.instagram.com/user' || (i // 10) || '/' as "URL",
        case when i % 100000 = 2 then '15.5'
             else cast(1 + (i % 700) / 100 as varchar) || '%' end as "ER",
        'Song ' || (i % {SONGS}) as title,
        'Album ' || (i % 20000) as "release",
        'Artist ' || (i % 5000) as artist_name,
        cast(1960 + i % 60 as varchar) as "year",
        cast(((i * 7919) % 1000) / 100 - 5 as varchar) as "Delta",
        cast(1 + (i % 500) / 100 as varchar) as "Curr_ER",
        cast(i % 500 as varchar) as "Comments",
        cast(i % 9000 as varchar) as "Likes",
        (1 + i % 30) || 'd' as "Time"
    from range({ROWS}) t(i)
) to ? (format parquet, row_group_size 1000000)
"""

# The child: the real loader and dbt on the cleaning layer; prints its peak RSS and counts.
CHILD = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    from models_py.warehouse import file as warehouse
    from models_py.warehouse.dbt_runner import run_dbt
    from models_py.ingest.load import load_folder
    from models_py.pipeline import SCORE_MARTS

    folder, target = Path(sys.argv[1]), Path(sys.argv[2])
    warehouse.create_database(target)
    with warehouse.connect(target) as con:
        load_folder(con, folder, {})
    # Everything a run builds before the models, as the pipeline selects it.
    run_dbt("build", target, quiet=True, command_args=["--exclude", SCORE_MARTS])
    with warehouse.connect(target) as con:  # dbt-duckdb keeps its read-write handle
        audit = con.execute(
            "select sum(rows_read), sum(rows_clean), sum(rows_quarantined), "
            "sum(rows_unparseable_number), sum(rows_er_over_max), sum(rows_duplicate_url_song) "
            "from source_file_audit").fetchall()[0]
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps({"audit": [int(v) for v in audit], "peak_gb": peak_gb}))
    """
)


def test_millions_of_rows_load_and_clean_under_the_memory_ceiling(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder = tmp_path_factory.mktemp("big_in")
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false").fetchall()
        con.execute(GENERATE, [str(folder / "part-00001.parquet")]).fetchall()
    target = tmp_path_factory.mktemp("big_wh") / "warehouse.duckdb"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(target)],
        capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    dirty = ROWS // 100_000  # rows of each kind of dirt
    assert report["audit"] == [ROWS, ROWS - 3 * dirty, 3 * dirty, dirty, dirty, dirty]
    assert report["peak_gb"] < PEAK_RSS_LIMIT_GB, report
