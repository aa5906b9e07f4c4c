"""Command-line tools: `python -m caudal.tools.inspect_checkpoint`, `python -m caudal.tools.show_graph`."""
