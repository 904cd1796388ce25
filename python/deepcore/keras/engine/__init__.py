"""The Keras model engine, laid out as Keras 2's ``engine/``:

    functional.py    Network: the graph of layers from Input tensors to outputs (nodes, replay on
                     real tensors, summary) and K.function
    data_adapter.py  arrays, generators and Sequences -> the model's tensors, batch by batch
    saving.py        config (get_config/from_config/JSON), weights files, save/load_model
    training.py      Model(Network): compile, scoring, fit/evaluate/predict and the *_on_batch steps
    sequential.py    Sequential(Model)

The public names are keras.models'. This package imports none of its modules, so any of them
may be imported alone.
"""
