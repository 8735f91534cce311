{#- Song rankings of every popularity method over all clean reels. -#}

{{ popularity_song_rankings(ref('reels'), ref('influencers')) }}
