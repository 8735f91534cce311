{#- Popularity rankings from the warm split's training reels only, for
    evaluation. -#}

with

train_reels as (

    select * from {{ ref('int_train_reels') }}
    where scenario = 'warm'

),

rankings as (

    {{ popularity_song_rankings(
        'train_reels', ref('int_influencers_profiled')
    ) }}

)

select * from rankings
