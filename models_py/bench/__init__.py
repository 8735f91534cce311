"""Benchmarks (`make bench`): every stage of the run and the peer libraries, per dataset size.

``runner`` drives; each stage runs in its own process (``python -m models_py.bench.stages``) so
its wall time and peak memory are its own. Peers (scikit-surprise, implicit) come from the
optional ``bench`` extra and are imported only inside their stages.
"""
