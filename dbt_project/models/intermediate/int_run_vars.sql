-- The dbt vars this warehouse is built with, one row each. The scoring stage
-- reads them here (run_settings, the mart, also names the method the models'
-- run chose, so it is built after them).
{%- set settings = [
    ('run_id',
        'Fingerprint of the input files and var overrides of the run that built'
        ' this warehouse.'),
    ('max_er',
        'ER (%) above this is implausible: the row is quarantined'
        ' (er_over_max).'),
    ('max_posts',
        'Lifetime posts above this are scraping errors: quarantined'
        ' (posts_over_max).'),
    ('max_engagement_pct',
        '|Delta| or |Curr_ER| (%) above this is quarantined (out_of_range).'),
    ('max_days_since_posted',
        'Time (days since posted) above this is quarantined (out_of_range).'),
    ('tier_nano_max_followers',
        'Influencers with fewer followers than this are nano; from here on'
        ' micro.'),
    ('celebrity_followers',
        'Influencers with at least this many followers are celebrities.'),
    ('top_n', 'Songs recommended per influencer and method.'),
    ('min_user_count',
        'The count method leaves out songs used by fewer influencers than'
        ' this.'),
    ('delta_threshold',
        'A reel performed (more_performing) when its Delta is above this.'),
    ('lift_threshold',
        'A held-out song counts as lifted (relevance lifted) when its reel\'s'
        ' Delta is above this.'),
    ('trending_half_life_days',
        'trending: a reel\'s weight halves every this many days.'),
    ('split_seed', 'Seed of the hashed train/test split.'),
    ('test_percent', 'Share of reels (%) held out for testing.'),
    ('cold_percent',
        'Cold start: share (%) of songs, and separately of influencers, held'
        ' out whole.'),
    ('eval_k', 'Cut-off k of the ranking metrics.'),
    ('eval_max_influencers',
        'Ranking metrics are averaged over at most this many influencers (a'
        ' fixed md5 sample beyond).'),
    ('faithful_max_ratings',
        'The report\'s own CF and SVD (comparisons, not served) are not fitted'
        ' past this many training ratings.'),
    ('serve_methods',
        'Models whose top-n lists are served to every influencer beside the'
        ' default method (comma-separated); the others are computed on demand'
        ' from their fitted parts.'),
] %}

with

settings as (
    {% for name, description in settings %}
    select
        '{{ name }}' as setting,
        {{ text_var(name) }} as setting_value,
        '{{ description | replace("'", "''") }}' as description
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
)

select * from settings
