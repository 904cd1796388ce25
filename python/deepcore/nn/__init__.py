"""deepcore.nn: modules, layers, losses, init. (Being written: issue 4.)"""
