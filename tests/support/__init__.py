"""What tests and benchmarks share: the loopback API servers (fakes/), the in-process
scripted provider (scripted.py), sample replies (samples.py), CLI helpers (helpers.py) and
the pytest fixtures (fixtures.py, registered by tests/conftest.py).

Benchmarks import it as `tests.support` when run from the repository root
(`python -m bench.NAME`); nothing here but fixtures.py imports pytest.
"""
