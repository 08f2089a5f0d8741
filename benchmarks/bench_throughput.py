"""Training throughput of skdeepclust's skorch loops next to a bare PyTorch loop.

Both train the same autoencoder (DEC's d-500-500-2000-10 by default) with the same batch size and
optimiser on the same data, in the same process, alternating the two so that machine noise hits
both alike. Also reports the achieved FLOP rate of the model next to a plain GEMM.

Usage::

    python benchmarks/bench_throughput.py                 # Fashion-MNIST rows if installed
    python benchmarks/bench_throughput.py --n 20000 --repeats 3 --batch-size 256
    python benchmarks/bench_throughput.py --optimizer adam --precision float32   # before
    python benchmarks/bench_throughput.py --optimizer fused --precision bfloat16  # estimators'

``--optimizer`` and ``--precision`` apply to both loops alike; the estimators train with the
fused Adam and, with ``precision="auto"`` on a CPU with bfloat16 instructions, in bfloat16.
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
import torch.nn.functional as F

from skdeepclust.dissimilarities import get_dissimilarity
from skdeepclust.dmae import DMAEModule
from skdeepclust.nn.autoencoders import build_autoencoder
from skdeepclust.nn.mixture import DissimilarityMixture
from skdeepclust.training.data import BatchDataset, batch_loader
from skdeepclust.training.nets import DMMNet, RepresentationNet


def load_rows(n: int) -> np.ndarray:
    try:
        from skdeepclust.datasets import load_fashion_mnist

        X = load_fashion_mnist(subset="train", return_X_y=True)[0]
        return np.ascontiguousarray(X[:n])
    except OSError:
        return np.random.RandomState(0).rand(n, 784).astype(np.float32)


def make_module(n_features: int, hidden: tuple[int, ...]) -> DMAEModule:
    torch.manual_seed(0)
    ae = build_autoencoder("mlp", n_features, hidden_dims=hidden, latent_dim=10)
    mixture = DissimilarityMixture(10, 10, get_dissimilarity("euclidean"), 1000.0)
    return DMAEModule(ae, mixture)


def skorch_epoch(X, module, batch_size, phase, fused, precision):
    common = dict(
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        optimizer__fused=fused,
        precision=precision,
        lr=1e-3,
        max_epochs=1,
        batch_size=batch_size,
        train_split=None,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        verbose=0,
    )
    if phase == "pretrain":
        net = RepresentationNet(module.autoencoder, phase="pretraining", **common)
    else:
        net = DMMNet(module, phase="fine-tuning", reference_scale=1.0, **common)
    net.initialize()
    start = time.perf_counter()
    net.partial_fit(BatchDataset(X))
    return time.perf_counter() - start


def bare_epoch(X, module, batch_size, phase, fused, precision):
    opt = torch.optim.Adam(
        module.autoencoder.parameters() if phase == "pretrain" else module.parameters(),
        lr=1e-3,
        fused=fused,
    )
    Xt = torch.from_numpy(X)
    ae, mixture = module.autoencoder, module.mixture

    def run(net, x):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            return net(x).float()

    start = time.perf_counter()
    for idx in torch.randperm(len(X)).split(batch_size):
        x = Xt[idx]
        h = run(ae.encoder, x)
        if phase == "pretrain":
            loss = F.mse_loss(run(ae.decoder, h), x)
        else:
            S, _, _ = mixture(h)
            loss = mixture.clustering_loss(h, S) + 0.1 * F.mse_loss(
                run(ae.decoder, mixture.soft_centers(S)), x
            )
            spread = (h - h.mean(0)).pow(2).sum(1).mean().sqrt()
            loss = loss + torch.log(spread).pow(2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        loss.item()  # the skorch loop logs the loss every batch: same host sync here
    return time.perf_counter() - start


def gemm_gflops(
    batch_size: int, n_features: int, width: int, dtype: torch.dtype, repeats: int = 20
) -> float:
    a = torch.randn(batch_size, n_features, dtype=dtype)
    b = torch.randn(n_features, width, dtype=dtype)
    torch.mm(a, b)
    start = time.perf_counter()
    for _ in range(repeats):
        torch.mm(a, b)
    return 2 * batch_size * n_features * width * repeats / (time.perf_counter() - start) / 1e9


def model_flops_per_sample(n_features: int, hidden: tuple[int, ...]) -> int:
    sizes = [n_features, *hidden, 10]
    macs = sum(a * b for a, b in itertools.pairwise(sizes))
    return 2 * 2 * macs * 3  # encoder + decoder, forward + backward (~2x forward)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--hidden", default="500,500,2000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--optimizer", choices=["adam", "fused"], default="fused")
    parser.add_argument("--precision", choices=["float32", "bfloat16"], default="bfloat16")
    args = parser.parse_args()
    fused = args.optimizer == "fused"
    hidden = tuple(int(h) for h in args.hidden.split(","))
    X = load_rows(args.n)
    print(
        f"{len(X)} x {X.shape[1]} rows, MLP {X.shape[1]}-{'-'.join(map(str, hidden))}-10, "
        f"batch {args.batch_size}, Adam (fused={fused}), {args.precision}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads\n"
    )
    print("| phase | skorch loop samples/s | bare loop samples/s | ratio | s per 60k epoch |")
    print("|---|---|---|---|---|")
    achieved = {}
    for phase in ("pretrain", "finetune"):
        ours, bare = [], []
        for _ in range(args.repeats):
            for loop, times in ((skorch_epoch, ours), (bare_epoch, bare)):
                module = make_module(X.shape[1], hidden)
                times.append(loop(X, module, args.batch_size, phase, fused, args.precision))
        t_ours, t_bare = np.median(ours), np.median(bare)
        achieved[phase] = len(X) / t_ours
        print(
            f"| {phase} | {len(X) / t_ours:,.0f} | {len(X) / t_bare:,.0f} | "
            f"{t_bare / t_ours:.2f} | {60_000 * t_ours / len(X):.1f} |"
        )
    gemm = gemm_gflops(args.batch_size, X.shape[1], hidden[0], getattr(torch, args.precision))
    model = achieved["pretrain"] * model_flops_per_sample(X.shape[1], hidden) / 1e9
    print(
        f"\nplain {args.precision} GEMM "
        f"({args.batch_size}x{X.shape[1]} @ {X.shape[1]}x{hidden[0]}): "
        f"{gemm:.1f} GFLOP/s; autoencoder pretraining achieves {model:.1f} GFLOP/s "
        f"({model / gemm:.2f} of the GEMM rate)"
    )


if __name__ == "__main__":
    main()
