"""keras.utils: to_categorical, Progbar. (Being written: issue 5.)"""
