"""deepcore.optim: optimizers with fused native updates, lr schedulers. (Being written: issue 4.)"""
