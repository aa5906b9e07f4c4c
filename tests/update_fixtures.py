"""A stand-in for the run context the optimizer update kernels use (tests of their fast_cpu loops)."""
from __future__ import annotations

import numpy as np


class VariablesContext:
    """The part of a run context the Apply kernels use: variables by name, read and written."""

    xp = np

    def __init__(self, values):
        self.variables = dict(values)

    def read(self, name):
        return self.variables[name]

    def write(self, name, value):
        self.variables[name] = value

    def holds_each(self, names, values):
        """Whether each variable of `names` holds the very object at the same place in `values`."""
        return all(self.variables.get(name) is value for name, value in zip(names, values, strict=True))
