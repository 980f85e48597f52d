import pytest

# the helper modules' asserts say what they compared, as the tests' own do
pytest.register_assert_rewrite("tests.builds", "tests.outputs", "tests.projects", "tests.watcher")
