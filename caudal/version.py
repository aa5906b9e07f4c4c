"""`tf.version`: caudal's version and the GraphDef versions its graphs carry (TF 2.21's producer)."""
from caudal import __version__
from caudal.framework.graph_io import GRAPH_DEF_VERSION, GRAPH_DEF_VERSION_MIN_CONSUMER

__all__ = ["GRAPH_DEF_VERSION", "GRAPH_DEF_VERSION_MIN_CONSUMER", "GRAPH_DEF_VERSION_MIN_PRODUCER", "VERSION"]

GRAPH_DEF_VERSION_MIN_PRODUCER = 0
VERSION = __version__
