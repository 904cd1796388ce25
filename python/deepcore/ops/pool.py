"""Pooling and upsampling (NCHW) on the native kernels. (Being written: issue 3.)"""


def max_pool2d(x, kernel_size, stride=None, padding=0):
    raise NotImplementedError("max_pool2d: not implemented yet")


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    raise NotImplementedError("avg_pool2d: not implemented yet")


def upsample_nearest2d(x, scale_factor):
    raise NotImplementedError("upsample_nearest2d: not implemented yet")
