"""deepcore's differentiable ops, one module per kernel family."""
