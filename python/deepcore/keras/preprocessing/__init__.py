"""keras.preprocessing: sequence padding (text and image pipelines are not provided)."""
from . import sequence  # noqa: F401
