"""`tf.layers`: TF1's layers, as classes and functions (re-exports only)."""
from caudal.layers.base import Layer
from caudal.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    Convolution1D,
    Convolution2D,
    Convolution2DTranspose,
    Deconvolution2D,
    SeparableConv2D,
    SeparableConvolution2D,
    conv1d,
    conv2d,
    conv2d_transpose,
    convolution2d,
    separable_conv2d,
)
from caudal.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten
from caudal.layers.normalization import BatchNorm, BatchNormalization, batch_normalization
from caudal.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    AvgPool1D,
    AvgPool2D,
    MaxPool1D,
    MaxPool2D,
    MaxPooling1D,
    MaxPooling2D,
    average_pooling1d,
    average_pooling2d,
    max_pooling1d,
    max_pooling2d,
)

__all__ = [
    "Layer", "Dense", "Dropout", "Flatten", "dense", "dropout", "flatten", "Conv1D", "Conv2D", "Conv2DTranspose",
    "SeparableConv2D", "Convolution1D", "Convolution2D", "Convolution2DTranspose", "Deconvolution2D",
    "SeparableConvolution2D", "conv1d", "conv2d", "conv2d_transpose", "convolution2d", "separable_conv2d",
    "MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D",
    "AvgPool2D", "max_pooling1d", "max_pooling2d", "average_pooling1d", "average_pooling2d",
    "BatchNormalization", "BatchNorm", "batch_normalization",
]
