"""A user's encoder/decoder pair, shared by the estimators' tests of custom modules."""

import torch


class CountingEncoder(torch.nn.Module):
    """A distinctive encoder (LayerNorm, Tanh) that counts its forward passes."""

    def __init__(self, n_features: int, latent_dim: int):
        super().__init__()
        self.body = torch.nn.Sequential(
            torch.nn.Linear(n_features, 8),
            torch.nn.LayerNorm(8),
            torch.nn.Tanh(),
            torch.nn.Linear(8, latent_dim),
        )
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.body(x)


def custom_pair(n_features: int, latent_dim: int):
    torch.manual_seed(0)
    decoder = torch.nn.Sequential(
        torch.nn.Linear(latent_dim, 8), torch.nn.ReLU(), torch.nn.Linear(8, n_features)
    )
    return CountingEncoder(n_features, latent_dim), decoder


def weights(*modules):
    return [{k: v.clone() for k, v in m.state_dict().items()} for m in modules]
