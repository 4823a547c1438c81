"""Dev-only, never part of the build or the tests: PyTorch's label-smoothed cross-entropy, forward + backward, timed
at LossBenchmark's shapes for docs/performance.md.

    /usr/bin/python3 src/bench/python/torch_loss_bench.py      (Debian: apt-get install python3-torch)

F.cross_entropy(logits, target, label_smoothing=0.1, reduction='mean') then backward, on 2 threads, float32, with
class-index targets and with one-hot (probability) targets, on row-major ('c') logits and on column-major ('f') ones
(a transposed view, as a DL4J dense layer hands its loss). Prints the median and the 10th percentile of the time per
call in microseconds over ROUNDS rounds of CALLS calls (a round's time divided by CALLS).
"""
import statistics
import time

import torch
import torch.nn.functional as F

ROUNDS = 200
CALLS = 10


def logits(n, k, order):
    torch.manual_seed(42)
    if order == "f":
        return (torch.randn(k, n) * 3).t().detach().requires_grad_(True)  # column-major [n, k]
    return (torch.randn(n, k) * 3).requires_grad_(True)


def bench(n, k, order, dense):
    z = logits(n, k, order)
    indices = torch.randint(0, k, (n,))
    target = F.one_hot(indices, k).float() if dense else indices
    times = []
    for r in range(ROUNDS + 20):  # the first 20 rounds warm up
        start = time.perf_counter()
        for _ in range(CALLS):
            z.grad = None
            F.cross_entropy(z, target, label_smoothing=0.1).backward()
        if r >= 20:
            times.append((time.perf_counter() - start) / CALLS * 1e6)
    times.sort()
    return statistics.median(times), times[len(times) // 10]


def main():
    torch.set_num_threads(2)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'shape':>9} {'order':>5} {'target':>8} {'median us':>10} {'p10 us':>8}")
    for n, k in ((256, 1000), (2048, 10)):
        for order in ("c", "f"):
            for dense in (True, False):
                median, p10 = bench(n, k, order, dense)
                print(f"{n}x{k:<5} {order:>5} {'one-hot' if dense else 'indices':>8} {median:10.1f} {p10:8.1f}")


if __name__ == "__main__":
    main()
