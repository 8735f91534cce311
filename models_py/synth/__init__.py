"""Synthetic source data with a planted truth, in the order the generator runs.

`settings` (rates, model parameters, sizes) -> `influencers`, `songs` (with `vocabulary`,
`text`, `sampling`) -> `usage` (who uses which song) -> `ratings` (planted Delta) -> `dirt`
-> `simulate` (all of it in memory) -> `cells` (rendered source cells) -> `writers` (raw/ and
truth/) -> `generate` (`generate()` and the CLI). `oracle` reads truth/ back as a recommender.
"""
