"""Backprop against central finite differences, for every activation and architecture option."""

from __future__ import annotations

import numpy as np
import pytest

from gradsim.engine import losses
from gradsim.engine.config import ACTIVATIONS, Config
from gradsim.engine.data import make_dataset
from gradsim.engine.network import Network


def _loss_and_grad(config: Config, seed: int = 0):
    rng = np.random.default_rng(seed)
    net = Network(config, rng)
    data = make_dataset(config, np.random.default_rng(seed + 1))
    x = data.inputs[: config.batch_size]
    if config.loss == "cross_entropy":
        labels = data.labels[: config.batch_size]

        def loss_of_prediction(y):
            return losses.cross_entropy(y, labels)
    else:
        targets = data.targets[: config.batch_size]

        def loss_of_prediction(y):
            return losses.mse(y, targets)

    def loss_at(params: np.ndarray) -> float:
        saved = net.params.copy()
        net.params[...] = params
        value = loss_of_prediction(net.forward(x))[0]
        net.params[...] = saved
        return value

    _, grad_output = loss_of_prediction(net.forward(x))
    net.backward(x, grad_output)
    return net, loss_at


def _check(config: Config, samples: int = 40, seed: int = 0) -> None:
    net, loss_at = _loss_and_grad(config, seed)
    rng = np.random.default_rng(seed + 2)
    # Every weight matrix, bias and BN parameter block gets probed, plus random entries.
    indices = set(int(i) for i in net.w_offsets)
    indices |= set(int(i) for i in rng.integers(0, net.params.size, samples))
    indices |= {net.n_weights, net.params.size - 1} - {net.params.size}  # no biases, no BN
    base = net.params.copy()
    analytic = net.grad.copy()
    for i in sorted(indices):
        eps = 1e-6 * max(1.0, abs(base[i]))
        plus, minus = base.copy(), base.copy()
        plus[i] += eps
        minus[i] -= eps
        numeric = (loss_at(plus) - loss_at(minus)) / (2 * eps)
        assert analytic[i] == pytest.approx(numeric, rel=1e-5, abs=1e-8), (
            f"parameter {i}: backprop {analytic[i]!r} vs finite difference {numeric!r}"
        )


SMALL = dict(depth=4, width=6, input_dim=5, output_dim=3, batch_size=7, init="xavier_normal")


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_every_activation_and_loss(activation: str, loss: str) -> None:
    # leaky_slope and bias move kinks away from 0 so the central difference is valid there.
    _check(Config(**SMALL, activation=activation, loss=loss, leaky_slope=0.2, bias_init=0.05))


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_batchnorm_and_residual(activation: str, batchnorm: bool, residual: bool) -> None:
    config = Config(
        **{**SMALL, "input_dim": 6},  # input_dim == width: layer 1 gets a skip connection too
        activation=activation,
        batchnorm=batchnorm,
        residual=residual,
        bias_init=0.1,
    )
    _check(config)


@pytest.mark.parametrize("depth", [1, 2])
def test_shallow_networks(depth: int) -> None:
    _check(Config(**{**SMALL, "depth": depth}, activation="tanh", batchnorm=True))


def test_backprop_grad_buffer_is_dloss_dz() -> None:
    """The backprop_grad statistic is built from dz; check dz itself, not only dW."""
    config = Config(**{**SMALL, "input_dim": 6}, activation="tanh", batchnorm=True, residual=True)
    net, _ = _loss_and_grad(config)
    # dLoss/db_l = sum over the batch of dz_l, so dz's batch sums must equal the bias gradient.
    for layer in range(config.depth):
        np.testing.assert_allclose(
            net.dz[layer].sum(axis=0), net.bias_grads[layer], rtol=1e-10, atol=1e-15
        )


@pytest.mark.parametrize("activation", ["linear", "tanh", "relu", "sigmoid", "gelu"])
@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("residual", [False, True])
def test_without_bias(activation: str, batchnorm: bool, residual: bool) -> None:
    config = Config(
        **{**SMALL, "input_dim": 6},  # input_dim == width: layer 1 gets a skip connection too
        activation=activation,
        batchnorm=batchnorm,
        residual=residual,
        bias=False,
        bias_init=0.1,  # ignored: there is no bias to start at it
    )
    _check(config)


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_without_bias_every_loss(loss: str) -> None:
    _check(Config(**SMALL, activation="elu", loss=loss, bias=False))


@pytest.mark.parametrize("batchnorm", [False, True])
def test_without_bias_the_parameters_are_the_weights(batchnorm: bool) -> None:
    """No bias blocks in the flat vector: weights first, then BN's scales and shifts only."""
    config = Config(**SMALL, activation="tanh", batchnorm=batchnorm, bias=False, bias_init=3.0)
    with_bias = Network(config.replace(bias=True), np.random.default_rng(0))
    net = Network(config, np.random.default_rng(0))
    bn = 2 * (SMALL["depth"] - 1) * SMALL["width"] if batchnorm else 0
    assert net.biases == [] and net.bias_grads == []
    assert net.n_weights == with_bias.n_weights
    assert net.params.size == net.grad.size == net.n_weights + bn
    biases_end = with_bias.n_weights + sum(with_bias.dims[1:])
    assert with_bias.params.size == biases_end + bn
    # The same weights (same random stream) and BN parameters, the biases left out.
    np.testing.assert_array_equal(net.params[: net.n_weights], with_bias.params[: net.n_weights])
    np.testing.assert_array_equal(net.params[net.n_weights :], with_bias.params[biases_end:])
    for gamma, beta in zip(net.gammas, net.betas, strict=True):
        assert np.all(gamma == 1.0) and np.all(beta == 0.0)


def test_without_bias_a_linear_net_is_a_matrix_product() -> None:
    config = Config(**SMALL, activation="linear", bias=False, bias_init=5.0)
    net = Network(config, np.random.default_rng(0))
    x = make_dataset(config, np.random.default_rng(1)).inputs[: config.batch_size]
    product = x
    for weight in net.weights:
        product = product @ weight.T
    np.testing.assert_array_equal(net.forward(x), product)
