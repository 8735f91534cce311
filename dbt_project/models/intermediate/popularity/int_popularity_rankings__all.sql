{#- Song rankings of every popularity method over all clean reels: what is
    served (popularity_recommendations). -#}

with

clean_reels as (

    select * from {{ ref('int_reels_validated') }}
    where rejection_rule is null

),

rankings as (

    {{ popularity_song_rankings(
        'clean_reels', ref('int_influencers_profiled')
    ) }}

)

select * from rankings
