{#- Popularity rankings from the training split only, for evaluation. -#}

{{ popularity_song_rankings(ref('int_train_reels'), ref('influencers')) }}
