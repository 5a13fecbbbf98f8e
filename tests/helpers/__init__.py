"""What more than one test file uses: paths, sessions over stdio, the provider harness, samples.

Test modules import from here, never from each other; fixtures are in tests/conftest.py.
"""
