"""Engine speed: ms per training step, and that time over the time of its matrix products alone.

The second figure is the overhead ratio against the BLAS limit: the same matmuls, on the same
arrays, in the same order, measured in the same run, so machine noise cancels.

    python benchmarks/bench_engine.py [--threads N] [--repeats R] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from gradsim.engine.config import Config
from gradsim.engine.simulation import Simulation


def matmuls_only(sim: Simulation) -> None:
    """The step's matrix products: forward, weight gradient and back-propagation per layer."""
    net = sim.network
    x = sim.data.inputs[: sim.config.batch_size]
    h_prev = x
    for l in range(net.depth):
        np.matmul(h_prev, net.weights[l].T, out=net.z[l])
        h_prev = net.h[l]
    for l in range(net.depth - 1, -1, -1):
        h_prev = x if l == 0 else net.h[l - 1]
        np.matmul(net.dz[l].T, h_prev, out=net.weight_grads[l])
        if l > 0:
            _ = net.dz[l] @ net.weights[l]


def best_time(fn, repeats: int, min_time: float = 0.05) -> float:
    """Best-of-``repeats`` seconds per call (each repeat loops until ``min_time`` has passed)."""
    best = float("inf")
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn()
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        best = min(best, elapsed / calls)
    return best


def measure(
    depth: int, width: int, activation: str, dtype: str, repeats: int
) -> tuple[float, float]:
    init = "he_normal" if activation == "relu" else "xavier_normal"
    config = Config(
        depth=depth,
        width=width,
        input_dim=width,
        output_dim=width,
        batch_size=128,
        activation=activation,
        init=init,
        dtype=dtype,
        learning_rate=1e-4,
    )
    sim = Simulation(config, record=False)
    sim.step()  # warm up (allocations, first-touch)

    def step() -> None:
        if sim.diverged:  # never expected with these inits; keeps the loop honest if it happens
            raise RuntimeError("benchmark run diverged")
        sim.step()

    with np.errstate(all="ignore"):
        t_step = best_time(step, repeats)
        t_mm = best_time(lambda: matmuls_only(sim), repeats)
    return t_step, t_mm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="only L = 10, 100")
    args = parser.parse_args()
    depths = (10, 100) if args.quick else (10, 100, 500)
    with threadpool_limits(limits=args.threads, user_api="blas"):
        blas = [
            f"{i['internal_api']} {i.get('version', '')} threads={i['num_threads']}"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        print(f"BLAS: {'; '.join(blas)}")
        header = ("L", "n", "act", "dtype", "ms/step", "ms matmul", "ratio")
        print("{:>4} {:>4} {:>5} {:>7} {:>9} {:>10} {:>6}".format(*header))
        for depth, width, activation, dtype in itertools.product(
            depths, (64, 256), ("tanh", "relu"), ("float64", "float32")
        ):
            t_step, t_mm = measure(depth, width, activation, dtype, args.repeats)
            print(
                f"{depth:>4} {width:>4} {activation:>5} {dtype:>7} {t_step * 1e3:9.3f} "
                f"{t_mm * 1e3:10.3f} {t_step / t_mm:6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
