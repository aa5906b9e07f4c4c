"""Offline dataset files shared by `caudal.examples.tutorials.mnist` and `caudal.keras.datasets`."""
