-- Ready queries for analysts and BI tools. Open warehouse.duckdb (read-only) in the DuckDB
-- CLI, DBeaver, or any tool with a DuckDB driver, and run these against schema main.
-- Each is tested against the built warehouse in tests/test_queries.py.

-- name: influencer_top_10_by_method
-- An influencer's top 10 by every method, with the reason for each pick.
select method, rank, title, artist_name, round(score, 3) as score, reason
from recommendations
where handle = 'desi_trends'
order by method, rank;

-- name: celebrity_songs_this_month
-- Songs celebrities used in reels posted in the last 30 days, most celebrities first.
select
    songs.title,
    songs.artist_name,
    count(distinct reels.influencer_id) as celebrities,
    sum(reels.use_count) as reels
from reels
inner join influencers on reels.influencer_id = influencers.influencer_id
inner join songs on reels.song_id = songs.song_id
where influencers.is_celebrity and reels.days_since_posted <= 30
group by songs.title, songs.artist_name
order by celebrities desc, reels desc, songs.title
limit 20;

-- name: songs_that_lift_micro_influencers
-- Songs that lift engagement for micro influencers: mean Delta over at least 5 of them.
select
    songs.title,
    songs.artist_name,
    count(*) as micro_influencers,
    round(avg(reels.delta), 2) as mean_lift,
    round(avg(case when reels.delta > 0 then 1.0 else 0.0 end), 2) as share_lifted
from reels
inner join influencers on reels.influencer_id = influencers.influencer_id
inner join songs on reels.song_id = songs.song_id
where influencers.tier = 'micro'
group by songs.title, songs.artist_name
having count(*) >= 5
order by mean_lift desc
limit 20;

-- name: how_methods_compare
-- Every method side by side: rating accuracy and ranking quality at k = 10.
select
    method,
    family,
    round(max(value) filter (where metric = 'rmse'), 4) as rmse,
    round(max(value) filter (where metric = 'map' and relevance = 'used'), 4) as map_used,
    round(max(value) filter (where metric = 'map' and relevance = 'lifted'), 4) as map_lifted,
    round(max(value) filter (where metric = 'ndcg' and relevance = 'lifted'), 4) as ndcg_lifted,
    round(max(value) filter (where metric = 'coverage'), 4) as coverage
from model_metrics
where scenario = 'warm'
group by method, family
order by map_lifted desc nulls last;

-- name: similar_songs
-- The songs most similar to a given one (item KNN neighbours).
select neighbour_rank, neighbour_title, neighbour_artist_name, round(similarity, 3) as similarity
from song_neighbours
where method = 'item_knn'
    and song_id = (select song_id from songs order by user_count desc, song_id limit 1)
order by neighbour_rank;

-- name: cold_start_metrics
-- Songs nobody had used (cold_song) and influencers with no reels (cold_influencer):
-- recall and MAP at k = 10 per method, popularity as the baseline.
select
    scenario,
    method,
    round(max(value) filter (where metric = 'recall' and relevance = 'used'), 4) as recall_used,
    round(max(value) filter (where metric = 'map' and relevance = 'used'), 4) as map_used,
    round(max(value) filter (where metric = 'map' and relevance = 'lifted'), 4) as map_lifted
from model_metrics
where scenario in ('cold_song', 'cold_influencer')
group by scenario, method
order by scenario, map_used desc;

-- name: rejected_rows_by_rule
-- Where the input rows went, per file and rule.
select source_file, rejection_rule, count(*) as rows
from quarantined_reels
group by source_file, rejection_rule
order by source_file, rows desc;
