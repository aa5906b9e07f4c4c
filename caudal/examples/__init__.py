"""caudal's counterpart of `tensorflow.examples`."""
