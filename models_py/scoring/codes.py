"""The numbering of influencers and songs that the read and the writer share."""

# Codes are positions in the sorted ids, numbered in SQL, so the reels come into Python as
# integers: as text, the reels and their cold-start copies made the scoring process's memory
# grow with every character of every id (figures in bench/notes.md).
CODES = """
    with influencer_codes as (
        select
            influencer_id,
            cast(row_number() over (order by influencer_id) - 1 as integer) as user_code
        from main.influencers
    ),
    song_codes as (
        select song_id, cast(row_number() over (order by song_id) - 1 as integer) as item_code
        from main.songs
    )
"""
