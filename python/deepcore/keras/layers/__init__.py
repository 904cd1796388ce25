"""Keras layers. (Being written: issue 5.)"""
