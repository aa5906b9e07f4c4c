"""The Keras engine: the base Layer, Input, the functional graph of layers, Sequential and the training Model."""
