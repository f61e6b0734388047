"""Cost of one ``learned_function`` call relative to one training step, in the same run.

The GUI's worker calls it between steps, a few times a second: this says what call rate keeps
its cost under 5 % of the training time (and under 10 %, the 0.9x speed floor). Both times are
best-of-``repeats`` on the same simulation, so machine noise mostly cancels in the ratio. One
BLAS thread by default, as in the worker process.

    python benchmarks/bench_learned_function.py [--threads N] [--repeats R] [--depth L]
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_engine import best_time  # this folder: scripts run from here
from threadpoolctl import threadpool_limits

from gradsim.engine.config import Config
from gradsim.engine.learned_function import learned_function
from gradsim.engine.simulation import Simulation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--depth", type=int, default=100)
    parser.add_argument("--width", type=int, default=64)
    args = parser.parse_args()
    config = Config(
        depth=args.depth,
        width=args.width,
        dataset="spirals",
        activation="relu",
        init="he_normal",
        batch_size=128,
        learning_rate=1e-4,  # small: the run must not diverge while it is being timed
    )
    sim = Simulation(config, record=False)
    sim.step()  # warm up; BatchNorm-free, so learned_function could run at step 0 as well

    def step() -> None:
        if sim.diverged:
            raise RuntimeError("benchmark run diverged")
        sim.step()

    print(
        f"spirals, L = {config.depth}, n = {config.width}, {config.activation}/{config.init}, "
        f"batch {config.batch_size}, input_dim {config.input_dim}, {config.dtype}, "
        f"{args.threads} BLAS thread(s)"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"), np.errstate(all="ignore"):
        t_step = best_time(step, args.repeats)
        print(f"training step: {t_step * 1e3:8.3f} ms")
        print(f"{'resolution':>10} {'ms/call':>9} {'ratio':>7} {'Hz<=5%':>8} {'Hz<=10%':>8}")
        for resolution in (32, 48, 64):
            t_call = best_time(lambda r=resolution: learned_function(sim, r), args.repeats)
            # Calls at f Hz take f·t_call of each second: <= 5 % of the training time left
            # means f·t_call <= 0.05·(1 - f·t_call).
            hz_5 = 0.05 / (1.05 * t_call)
            hz_10 = 0.10 / (1.10 * t_call)
            print(
                f"{resolution:>10} {t_call * 1e3:9.3f} {t_call / t_step:7.2f} "
                f"{hz_5:8.2f} {hz_10:8.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
