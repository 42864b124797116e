# The conformance suite's pytest plugin (options, cassettes, results); see conformance/plugin.py.
pytest_plugins = ["conformance.plugin"]
