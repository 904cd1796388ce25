"""keras.datasets: mnist, fashion_mnist from the real offline sources. (Being written: issue 5.)"""
