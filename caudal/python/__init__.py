"""`tensorflow.python`'s modules that TF1 programs import directly (`from tensorflow.python.client
import device_lib`)."""
