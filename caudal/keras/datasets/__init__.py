"""`tf.keras.datasets`: offline loaders (nothing is downloaded)."""
from caudal.keras.datasets import mnist

__all__ = ["mnist"]
