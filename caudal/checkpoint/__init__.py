"""TensorFlow's checkpoint formats: tables, tensor bundles (V2 checkpoints) and the `checkpoint` state file."""
