"""Keras callbacks. (Being written: issue 5.)"""
