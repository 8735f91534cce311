"""Benchmarks (`make bench`): every stage of the run and the peer libraries, per dataset size.

``runner`` drives; each stage runs in its own process (``python -m scripts.benchmarks.stages``)
so its wall time and peak memory are its own. Peers (scikit-surprise, implicit) come from the
optional ``bench`` extra and are imported only inside their stages. ``report_dense`` is the
report's own dense approach, kept as a yardstick for the bench and the tests, not shipped.
"""
