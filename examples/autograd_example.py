# The lecture's "PyTorch Example" (autograd_example.py), run on deepcore.
# Only the import lines differ from the slide: deepcore instead of torch, and a
# pyplot whose show() saves a PNG when there is no display.
# The targets y are random, so the loss cannot reach zero: it falls from a few
# hundred to about the targets' total variance (~N * D_out = 128), as it does in
# PyTorch; examples/autograd_vs_pytorch.py runs both on identical data.
import deepcore as torch
import headless_pyplot as plt

device = torch.device('cpu')

N, D_in, H, D_out = 64, 3, 4, 2

x = torch.randn(N, D_in, device=device)
y = torch.randn(N, D_out, device=device)

w1 = torch.randn(D_in, H, device=device, requires_grad=True)
w2 = torch.randn(H, D_out, device=device, requires_grad=True)

learning_rate = 1e-5
loss_data = []

for t in range(2000):
    h = x.mm(w1)
    phi = h.tanh()
    y_pred = phi.mm(w2)

    loss = (y_pred - y).pow(2).sum()
    loss_data.append(loss.item())

    loss.backward()

    with torch.no_grad():
        w1 -= learning_rate * w1.grad
        w2 -= learning_rate * w2.grad
        w1.grad.zero_()
        w2.grad.zero_()

print(f"loss: first {loss_data[0]:.3f}, last {loss_data[-1]:.3f}")
plt.plot(loss_data)
plt.show()
