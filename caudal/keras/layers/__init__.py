"""`tf.keras.layers` (re-exports only)."""
from caudal.keras.engine.base_layer import Layer
from caudal.keras.engine.input_layer import Input, InputLayer
from caudal.keras.engine.input_spec import InputSpec
from caudal.keras.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU
from caudal.keras.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    Cropping1D,
    Cropping2D,
    DepthwiseConv2D,
    SeparableConv2D,
    SeparableConvolution2D,
    UpSampling1D,
    UpSampling2D,
    ZeroPadding1D,
    ZeroPadding2D,
)
from caudal.keras.layers.core import (
    Activation,
    ActivityRegularization,
    Dense,
    Dropout,
    Flatten,
    Lambda,
    Masking,
    Permute,
    RepeatVector,
    Reshape,
)
from caudal.keras.layers.embeddings import Embedding
from caudal.keras.layers.merge import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    dot,
    maximum,
    minimum,
    multiply,
    subtract,
)
from caudal.keras.layers.normalization import BatchNormalization, LayerNormalization
from caudal.keras.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
)
from caudal.keras.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from caudal.keras.layers.serialization import deserialize_layer as deserialize
from caudal.keras.layers.serialization import serialize_layer as serialize
from caudal.keras.layers.wrappers import Bidirectional, TimeDistributed, Wrapper

__all__ = [
    "Layer", "Input", "InputLayer", "InputSpec", "Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute",
    "RepeatVector", "Lambda", "Masking", "ActivityRegularization", "Conv1D", "Conv2D", "Conv2DTranspose",
    "SeparableConv2D", "DepthwiseConv2D", "Convolution1D", "Convolution2D", "Convolution2DTranspose",
    "SeparableConvolution2D", "ZeroPadding1D", "ZeroPadding2D", "UpSampling1D", "UpSampling2D", "Cropping1D",
    "Cropping2D", "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "MaxPool1D",
    "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D",
    "GlobalMaxPool2D", "BatchNormalization", "LayerNormalization", "Embedding", "RNN", "SimpleRNN", "LSTM", "GRU",
    "SimpleRNNCell", "LSTMCell", "GRUCell", "Bidirectional", "TimeDistributed", "Wrapper", "Add", "Subtract",
    "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot", "add", "subtract", "multiply", "average",
    "maximum", "minimum", "concatenate", "dot", "LeakyReLU", "ReLU", "Softmax", "ELU", "PReLU", "ThresholdedReLU",
    "serialize", "deserialize",
]
