"""Keras model saving: HDF5 files in TF-Keras's layout, TF checkpoints, and JSON configs."""
