{#- The evaluation splits' rules, written once: int_reels_split and
    int_reels_split_cold_start label the clean reels with them, and
    int_train_reels picks its training reels with the same rules instead of
    joining the labelled rows back (a join on two texts over every reel). -#}

{#- 'test' when the reel is held out of the warm split (the md5 of influencer,
    song and split_seed in the lowest test_percent of 100 buckets), else
    'train'. -#}
{% macro warm_split(influencer_id, song_id) -%}
    case
        when {{ stable_percentile(
            influencer_id ~ " || '|' || " ~ song_id ~ " || '|' || '"
            ~ number_var('split_seed') ~ "'"
        ) }} < {{ number_var('test_percent') }}
            then 'test'
        else 'train'
    end
{%- endmacro %}

{#- True when every reel of the song is held out (scenario cold_song). -#}
{% macro is_cold_song(song_id) -%}
    {{ stable_percentile(
        song_id ~ " || '|cold_song|' || '" ~ number_var('split_seed') ~ "'"
    ) }} < {{ number_var('cold_percent') }}
{%- endmacro %}

{#- True when every reel of the influencer is held out (cold_influencer). -#}
{% macro is_cold_influencer(influencer_id) -%}
    {{ stable_percentile(
        influencer_id ~ " || '|cold_influencer|' || '"
        ~ number_var('split_seed') ~ "'"
    ) }} < {{ number_var('cold_percent') }}
{%- endmacro %}
