"""ReelRec: song recommendations for Instagram reels."""
