"""keras.backend basics. (Being written: issue 5.)"""
