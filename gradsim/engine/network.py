"""A fully connected network with hand-written backprop and per-layer statistics.

Layer l = 1..L computes z_l = W_l h_{l-1} + b_l (no b_l when ``config.bias`` is off: then
the layers are pure matrix products). Hidden layers (l < L) then apply optional
BatchNorm, a_l = BN(z_l), and the activation, h_l = phi(a_l) (+ h_{l-1} when residual and
the shapes match). Layer L is linear: h_L = z_L is the prediction.

All weights live in one flat vector (and so do their gradients), so the optimizer, clipping and
the divergence check are single numpy calls. Per-layer quantities are written into flat
buffers, one contiguous segment per layer, so statistics over all layers are a handful of
vectorised reductions instead of a Python loop per layer.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gradsim.engine.activations import evaluate_into
from gradsim.engine.config import Config
from gradsim.engine.init import init_weight
from gradsim.engine.stats import SATURATION_THRESHOLD, norms

BN_EPS = 1e-5
# Weight matrices at least this big (256 x 128) get cache-hot fused norms and updates.
FUSE_MIN_WEIGHTS = 32768


def row_squares(block: NDArray[np.floating]) -> NDArray[np.floating]:
    """Sum of squares of each row: one batched dot product per row, in one numpy call.

    (A stacked matmul costs half of ``einsum("ij,ij->i")``'s overhead; both sum every row of
    the same length in the same order, which keeps power-of-two ratios exact.)
    """
    squares: NDArray[np.floating] = np.matmul(block[:, None, :], block[:, :, None])[:, 0, 0]
    return squares


def _segments(sizes: list[int]) -> NDArray[np.intp]:
    return np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)


class Network:
    """Parameters, activation buffers and one forward/backward pass."""

    def __init__(self, config: Config, rng: np.random.Generator) -> None:
        self.config = config
        self.dtype: np.dtype[np.floating] = np.dtype(config.dtype)
        depth, batch = config.depth, config.batch_size
        self.depth = depth
        self.dims = [config.input_dim] + [config.width] * (depth - 1) + [config.output_dim]
        self.hidden = depth - 1  # layers with an activation
        self.residual = [
            config.residual and l < depth and self.dims[l - 1] == self.dims[l]
            for l in range(1, depth + 1)
        ]
        self.batchnorm = config.batchnorm and self.hidden > 0
        self.has_bias = config.bias

        # Parameter vector: all weights, then all biases (if any), then BN scales and shifts.
        w_sizes = [self.dims[l] * self.dims[l - 1] for l in range(1, depth + 1)]
        b_sizes = self.dims[1:] if self.has_bias else []
        bn_sizes = [config.width] * self.hidden if self.batchnorm else []
        sizes = w_sizes + b_sizes + bn_sizes + bn_sizes
        self.w_offsets = _segments(w_sizes)
        self.n_weights = int(sum(w_sizes))
        self.params = np.empty(int(sum(sizes)), self.dtype)
        self.grad = np.zeros_like(self.params)
        self.weights = self._weight_views(self.params)
        self.weight_grads = self._weight_views(self.grad)
        # One view per layer, or empty lists when the layers have no bias.
        self.biases: list[NDArray[np.floating]] = []
        self.bias_grads: list[NDArray[np.floating]] = []
        start = self.n_weights
        for size in b_sizes:
            self.biases.append(self.params[start : start + size])
            self.bias_grads.append(self.grad[start : start + size])
            start += size
        self.gammas: list[NDArray[np.floating]] = []
        self.betas: list[NDArray[np.floating]] = []
        self.gamma_grads: list[NDArray[np.floating]] = []
        self.beta_grads: list[NDArray[np.floating]] = []
        for target, grads in ((self.gammas, self.gamma_grads), (self.betas, self.beta_grads)):
            for size in bn_sizes:
                target.append(self.params[start : start + size])
                grads.append(self.grad[start : start + size])
                start += size

        for l in range(depth):
            self.weights[l][...] = init_weight(config, self.dims[l], self.dims[l + 1], rng)
        for bias in self.biases:
            bias[...] = config.bias_init
        for gamma, beta in zip(self.gammas, self.betas, strict=True):
            gamma[...] = 1.0
            beta[...] = 0.0

        # Activation buffers: one (batch, n_l) segment per layer.
        a_sizes = [batch * n for n in self.dims[1:]]
        self.a_offsets = _segments(a_sizes)
        self.a_counts = np.asarray(a_sizes, dtype=np.float64)
        total = int(sum(a_sizes))
        self._z = np.empty(total, self.dtype)
        self._pre = np.empty(total, self.dtype) if self.batchnorm else self._z
        self._h = np.empty(total, self.dtype)
        self._dz = np.empty(total, self.dtype)
        hidden_total = int(sum(a_sizes[: self.hidden]))
        self._dphi = np.empty(hidden_total, self.dtype)
        self.z = self._layer_views(self._z)
        self.pre = self._layer_views(self._pre)
        self.h = self._layer_views(self._h)
        self.dz = self._layer_views(self._dz)
        self.dphi = self._layer_views(self._dphi, self.hidden)
        # Views made once, since statistics reduce them every step: 1-D per layer (for the
        # careful norm), and the hidden layers, all the same size, as one (hidden, batch·width)
        # block so that one call reduces them all.
        self._flat = {
            "activation_rms": self._h,
            "preactivation_rms": self._pre,
            "backprop_grad_rms": self._dz,
        }
        self._segments = {
            name: [v.reshape(-1) for v in self._layer_views(flat)]
            for name, flat in self._flat.items()
        }
        self._hidden_size = batch * config.width
        self._dphi_block = self._dphi.reshape(self.hidden, self._hidden_size)
        self.flat_weights = [w.reshape(-1) for w in self.weights]
        self.flat_weight_grads = [g.reshape(-1) for g in self.weight_grads]
        self._rms_scale = 1.0 / np.sqrt(self.a_counts)
        self._step_buffer = np.empty(max(w_sizes), self.dtype)
        # Layer-by-layer (cache-hot) weight norms and updates only pay off for big matrices.
        self.fused_updates = max(w_sizes) >= FUSE_MIN_WEIGHTS
        self._w_ends = self.w_offsets + np.asarray(w_sizes)
        middle = [(1, depth - 1, depth - 2)] if depth > 2 else []
        last = [(depth - 1, depth, 1)] if depth > 1 else []
        self._weight_blocks = [(0, 1, 1), *middle, *last]
        self._ones_batch = np.ones(batch, self.dtype)
        self._weight_sq = np.zeros(depth)
        self._grad_sq = np.zeros(depth)
        self._xhat: list[NDArray[np.floating]] = [np.empty(0)] * self.hidden
        self._inv_std: list[NDArray[np.floating]] = [np.empty(0)] * self.hidden
        # The last training batch's BatchNorm means (with _inv_std: what predict normalises by).
        self._bn_mean: list[NDArray[np.floating]] = [np.empty(0)] * self.hidden

    def _weight_views(self, flat: NDArray[np.floating]) -> list[NDArray[np.floating]]:
        """(fan_out, fan_in) matrix views of each layer's weights in a flat vector."""
        return [
            flat[start : start + self.dims[l + 1] * self.dims[l]].reshape(
                self.dims[l + 1], self.dims[l]
            )
            for l, start in enumerate(self.w_offsets.tolist())
        ]

    def _layer_views(
        self, flat: NDArray[np.floating], count: int | None = None
    ) -> list[NDArray[np.floating]]:
        batch = self.config.batch_size
        count = self.depth if count is None else count
        return [
            flat[off : off + batch * self.dims[l + 1]].reshape(batch, self.dims[l + 1])
            for l, off in enumerate(self.a_offsets[:count])
        ]

    # ----------------------------------------------------------------------------- forward
    def forward(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """Run the batch ``x`` through the network; return the prediction (a view)."""
        cfg = self.config
        h_prev = x
        for l in range(self.depth):
            z = self.z[l]
            np.matmul(h_prev, self.weights[l].T, out=z)
            if self.has_bias:
                z += self.biases[l]
            if l == self.hidden:  # output layer: linear
                self.h[l][...] = z
                if self.batchnorm:
                    self.pre[l][...] = z
                break
            a = self._batchnorm_forward(l, z) if self.batchnorm else z
            out = self.h[l]
            if self.residual[l]:
                branch = np.empty_like(out)
                evaluate_into(cfg.activation, a, branch, self.dphi[l], cfg.leaky_slope)
                np.add(h_prev, branch, out=out)
            else:
                evaluate_into(cfg.activation, a, out, self.dphi[l], cfg.leaky_slope)
            h_prev = out
        return self.h[self.depth - 1]

    def _batchnorm_forward(self, l: int, z: NDArray[np.floating]) -> NDArray[np.floating]:
        mean = z.mean(axis=0)
        centred = z - mean
        var = np.mean(np.square(centred), axis=0)
        inv_std = 1.0 / np.sqrt(var + BN_EPS)
        xhat = centred * inv_std
        self._xhat[l], self._inv_std[l], self._bn_mean[l] = xhat, inv_std, mean
        a = self.pre[l]
        np.multiply(xhat, self.gammas[l], out=a)
        a += self.betas[l]
        return a

    @property
    def has_batch_statistics(self) -> bool:
        """True when ``predict`` can run: no BatchNorm, or a training batch has been seen."""
        return not self.batchnorm or self._bn_mean[0].size > 0

    def predict(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """The network's output for any number of rows ``x``, leaving training state untouched.

        The same arithmetic as ``forward`` in the same order (so a training batch gives the same
        bits), but in fresh arrays: the training buffers (``z``, ``pre``, ``h``, ``dz``, ``dphi``,
        the BatchNorm caches) and the parameters are only read, so calling this between steps
        cannot change a run. BatchNorm layers normalise with the mean and 1/std of the last
        training batch (measured in that step's forward pass, before its update), as a frozen
        layer would: the rows here are not a batch of the training distribution (a grid over
        the plane, say), so their own statistics would describe a different function. Before
        the first training pass there are no such statistics and a BatchNorm network raises
        RuntimeError (see ``has_batch_statistics``). Overflow is computed, not reported: the
        caller decides about numpy's warnings, as with ``forward``.
        """
        if not self.has_batch_statistics:
            raise RuntimeError("BatchNorm has no batch statistics before the first forward pass")
        cfg = self.config
        h_prev = np.asarray(x, self.dtype)  # as the training inputs are (forward's out= casts)
        scratch = np.empty((x.shape[0], cfg.width), self.dtype)  # phi', not needed here
        for l in range(self.hidden):
            z = np.matmul(h_prev, self.weights[l].T)
            if self.has_bias:
                z += self.biases[l]
            if self.batchnorm:  # in place, in forward's order: (z - mean)·inv_std·gamma + beta
                z -= self._bn_mean[l]
                z *= self._inv_std[l]
                z *= self.gammas[l]
                z += self.betas[l]
            evaluate_into(cfg.activation, z, z, scratch, cfg.leaky_slope)
            if self.residual[l]:
                z += h_prev  # forward adds h_prev + branch: addition commutes exactly
            h_prev = z
        output: NDArray[np.floating] = np.matmul(h_prev, self.weights[self.hidden].T)  # linear
        if self.has_bias:
            output += self.biases[self.hidden]
        return output

    # ---------------------------------------------------------------------------- backward
    def backward(self, x: NDArray[np.floating], grad_output: NDArray[np.floating]) -> None:
        """Back-propagate dLoss/dPrediction; fill ``grad`` and the ``dz`` buffers."""
        self.backward_signals(grad_output)
        self.weight_gradients(x)

    def backward_signals(self, grad_output: NDArray[np.floating]) -> None:
        """The delta recursion: dz_l for every layer, plus bias (if any) and BatchNorm gradients."""
        last = self.depth - 1
        self.dz[last][...] = grad_output
        # dLoss/dh_l of the layer below the current one: None until the output layer has
        # passed it down, so it is set exactly when l < last.
        grad_h: NDArray[np.floating] | None = None
        for l in range(last, -1, -1):
            dz = self.dz[l]
            if grad_h is not None:  # l < last
                if self.batchnorm:
                    self._batchnorm_backward(l, grad_h * self.dphi[l], out=dz)
                else:
                    np.multiply(grad_h, self.dphi[l], out=dz)
            if self.has_bias:
                # Column sums as a BLAS matrix-vector product: several times faster than sum().
                np.dot(self._ones_batch, dz, out=self.bias_grads[l])
            if l > 0:
                below = dz @ self.weights[l]
                if self.residual[l] and grad_h is not None:  # never residual at l = last
                    below += grad_h
                grad_h = below

    def weight_gradients(self, x: NDArray[np.floating], sgd_lr: float | None = None) -> None:
        """dLoss/dW_l = dz_lᵀ h_(l-1), with the squared norms of W_l and of its gradient.

        Large matrices (``fused_updates``) are handled layer by layer, so each norm is taken
        while its matrix is still in cache; with ``sgd_lr`` the plain SGD update
        W_l -= sgd_lr·dLoss/dW_l is applied right there too (a fused optimizer: it saves two
        passes over all weights from main memory). The caller must know every gradient is
        finite (see ``gradients_are_bounded``); the arithmetic is the same as the separate
        optimizer's, so results are bit-identical. Small matrices are cache-resident anyway,
        so there the per-call overhead matters and the norms are reduced in a few block calls.
        """
        fused = self.fused_updates
        for l in range(self.depth):
            np.matmul(self.dz[l].T, x if l == 0 else self.h[l - 1], out=self.weight_grads[l])
            if fused:
                flat_w, flat_g = self.flat_weights[l], self.flat_weight_grads[l]
                self._grad_sq[l] = np.dot(flat_g, flat_g)
                self._weight_sq[l] = np.dot(flat_w, flat_w)
                if sgd_lr is not None:
                    step = self._step_buffer[: flat_g.size]
                    np.multiply(flat_g, sgd_lr, out=step)
                    flat_w -= step
        if not fused:
            self._block_squares(self.params, self._weight_sq)
            self._block_squares(self.grad, self._grad_sq)

    def _block_squares(self, flat: NDArray[np.floating], out: NDArray[np.float64]) -> None:
        """Squared norm of every weight matrix in ``flat``: first, middle block, last.

        One kernel for all, so equal-sized matrices are summed in the same order.
        """
        for start, stop, rows in self._weight_blocks:
            block = flat[self.w_offsets[start] : self._w_ends[stop - 1]].reshape(rows, -1)
            out[start:stop] = row_squares(block)

    def gradients_are_bounded(
        self, x: NDArray[np.floating], stats: dict[str, NDArray[np.float64]]
    ) -> bool:
        """True when every weight and bias gradient is certainly finite, before computing them.

        |dW_l| <= ‖dz_l‖·‖h_(l-1)‖ and |db_l| <= ‖dz_l‖·√batch (Cauchy-Schwarz), so bounded
        norms of the signals, which the statistics hold already, rule out overflow. (Without
        biases the √batch term is still taken: a looser bound, never a wrong one.)
        """
        with np.errstate(all="ignore"):  # an overflowing bound is just 'not bounded'
            counts = np.sqrt(self.a_counts)
            dz_norm = stats["backprop_grad_rms"] * counts
            h_norm = np.concatenate(
                ([float(np.sqrt(np.sum(np.square(x))))], (stats["activation_rms"] * counts)[:-1])
            )
            bound = dz_norm * np.maximum(h_norm, np.sqrt(self.config.batch_size))
        return bool(np.all(bound < 0.25 * float(np.finfo(self.dtype).max)))

    def _batchnorm_backward(
        self, l: int, grad_a: NDArray[np.floating], out: NDArray[np.floating]
    ) -> None:
        xhat, inv_std = self._xhat[l], self._inv_std[l]
        np.sum(grad_a * xhat, axis=0, out=self.gamma_grads[l])
        np.sum(grad_a, axis=0, out=self.beta_grads[l])
        grad_xhat = grad_a * self.gammas[l]
        mean_g = grad_xhat.mean(axis=0)
        mean_gx = np.mean(grad_xhat * xhat, axis=0)
        np.subtract(grad_xhat, mean_g, out=out)
        out -= xhat * mean_gx
        out *= inv_std

    # -------------------------------------------------------------------------- statistics
    def activation_stats(self) -> dict[str, NDArray[np.float64]]:
        """Per-layer RMS and saturation statistics of the last forward/backward pass."""
        hidden, size = self.hidden, self._hidden_size
        stats: dict[str, NDArray[np.float64]] = {}
        for name, flat in self._flat.items():
            squares = np.empty(self.depth)
            block = flat[: hidden * size].reshape(hidden, size)
            squares[:hidden] = row_squares(block)
            # The same kernel as the block, so equal-sized layers sum in the same order.
            output = flat[hidden * size :].reshape(1, -1)
            squares[hidden:] = row_squares(output)
            stats[name] = norms(self._segments[name], squares) * self._rms_scale
        saturation = np.zeros(self.depth)
        if hidden and self.config.activation != "linear":
            below = np.less(self._dphi_block, SATURATION_THRESHOLD)
            saturation[:hidden] = np.count_nonzero(below, axis=1) / size
        stats["saturation"] = saturation
        return stats

    def weight_norms(self) -> NDArray[np.float64]:
        """‖W_l‖_F for every layer, as of the last backward pass."""
        return norms(self.flat_weights, self._weight_sq)

    def weight_grad_norms(self) -> NDArray[np.float64]:
        """‖∂loss/∂W_l‖_F for every layer, from the last backward pass."""
        return norms(self.flat_weight_grads, self._grad_sq)
