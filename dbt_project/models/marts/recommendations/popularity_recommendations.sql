{#- Top top_n songs per influencer and popularity method, songs already used
    left out. -#}

with

recommended as (

    {{ recommend_from_rankings(
        ref('popularity_rankings'), ref('reels'), ref('influencers')
    ) }}

)

select * from recommended
