"""`tf.keras.utils`: to_categorical, normalize, Progbar, Sequence and the custom-object helpers."""
from caudal.keras.utils.data_utils import Sequence
from caudal.keras.utils.generic_utils import (
    CustomObjectScope,
    Progbar,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from caudal.keras.utils.np_utils import normalize, to_categorical

__all__ = ["to_categorical", "normalize", "Progbar", "Sequence", "CustomObjectScope", "custom_object_scope",
           "get_custom_objects", "register_keras_serializable", "serialize_keras_object",
           "deserialize_keras_object", "get_registered_name", "get_registered_object"]
