"""keras.models: Model (functional API), Sequential, load_model and the config functions.

The engine behind them is keras/engine/ (as Keras 2's): functional.py (the graph), training.py
(compile, fit/evaluate/predict), data_adapter.py, saving.py (config, weights files, load_model)
and sequential.py.
"""
from .engine.saving import load_model, model_from_config, model_from_json  # noqa: F401
from .engine.sequential import Sequential  # noqa: F401
from .engine.training import Model  # noqa: F401
from .layers.serialization import deserialize_layer  # noqa: F401
