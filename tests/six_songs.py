"""Six songs with known likenesses for the content tests, and ratings of them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_py.recommenders.data import Ratings

# Six songs: two by artist "Ayla" (1980s), two by "Bo" (2000s), one "Ayla" with no year, one
# by "Cy" sharing only a title word with song 0.
SONGS = pd.DataFrame(
    {
        "title": ["Blue Moon", "Red River", "Neon Rain", "Cold Fire", "Green Hill", "Blue Horizon"],
        "release_name": ["First", "First", "Later", "Later", None, "Other"],
        "artist_name": ["Ayla", "Ayla", "Bo", "Bo", "Ayla", "Cy"],
        "release_year": [1984, 1988, 2003, 2005, 0, 1960],
    }
)


def ratings(rows: list[tuple[int, int, float]], n_users: int = 3) -> Ratings:
    u, i, r = (np.array(x) for x in zip(*rows, strict=True))
    return Ratings(u.astype(np.int32), i.astype(np.int32), r.astype(float), n_users, len(SONGS))
