"""caudal's counterpart of `tensorflow.examples.tutorials.mnist` (offline `input_data`)."""
