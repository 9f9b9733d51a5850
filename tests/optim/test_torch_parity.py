"""Several steps of every optimizer against torch.optim in float64 (skipped without torch)."""

import math

import numpy as np
import pytest

from numnet.kernels.flat import FlatArrays, FlatLayout
from numnet.kernels.flat_update import flat_update
from numnet.optim import (
    SGD,
    Adam,
    AdamW,
    Momentum,
    Nesterov,
    PlateauDetector,
    RMSProp,
    apply_updates,
    current_learning_rate,
    scale_learning_rate,
    schedules,
)

torch = pytest.importorskip("torch")

SHAPES = {"W1": (4, 3), "b1": (3,), "W2": (3, 2)}
STEPS = 6


def run_numnet(opt, params, grad_sequence):
    params = {k: v.copy() for k, v in params.items()}
    state = opt.init(params)
    for grads in grad_sequence:
        updates, state = opt.update({k: g.copy() for k, g in grads.items()}, state, params)
        apply_updates(params, updates)
    return params


def run_fused(opt, params, grad_sequence):
    """The same steps through the fused flat kernel, the Solver's path for a flat model."""
    layout = FlatLayout(list(params), [v.shape for v in params.values()], np.float64)
    flat = FlatParams(layout, np.empty(layout.size))
    for k, v in params.items():
        flat[k][...] = v
    fused, state = flat_update(opt), opt.init(flat)
    for grads in grad_sequence:
        flat_grads = FlatArrays(layout, np.empty(layout.size))
        for k, g in grads.items():
            flat_grads[k][...] = g
        assert fused.step(flat, flat_grads, state)
    return {k: v.copy() for k, v in flat.items()}


class FlatParams(FlatArrays):
    @property
    def flat_layout(self):
        return self.layout


def run_torch(make_opt, params, grad_sequence, clip_norm=None):
    tensors = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()
    }
    opt = make_opt(list(tensors.values()))
    for grads in grad_sequence:
        for k, t in tensors.items():
            t.grad = torch.tensor(grads[k], dtype=torch.float64)
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(list(tensors.values()), clip_norm)
        opt.step()
    return {k: t.detach().numpy() for k, t in tensors.items()}


CASES = {
    "sgd": (lambda: SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1), None),
    "sgd-wd": (
        lambda: SGD(0.1, weight_decay=0.05),
        lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05),
        None,
    ),
    "momentum": (
        lambda: Momentum(0.05, momentum=0.8),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8),
        None,
    ),
    "nesterov-wd": (
        lambda: Nesterov(0.05, momentum=0.9, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        None,
    ),
    "rmsprop": (
        lambda: RMSProp(0.01, decay_rate=0.9, epsilon=1e-6),
        lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-6),
        None,
    ),
    "adam": (
        lambda: Adam(0.01, beta1=0.8, beta2=0.99),
        lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99)),
        None,
    ),
    "adam-l2": (
        lambda: Adam(0.01, weight_decay=0.1),
        lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
        None,
    ),
    "adamw": (
        lambda: AdamW(0.01, weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
        None,
    ),
    "adam-clip": (
        lambda: Adam(0.01, clip_norm=0.5),
        lambda p: torch.optim.Adam(p, lr=0.01),
        0.5,
    ),
}


@pytest.mark.parametrize("path", [run_numnet, run_fused], ids=["pure", "fused"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_torch_optim_over_several_steps(case, path):
    make_ours, make_torch, clip = CASES[case]
    rng = np.random.default_rng(7)
    params = {k: rng.standard_normal(s) for k, s in SHAPES.items()}
    grad_sequence = [{k: rng.standard_normal(s) for k, s in SHAPES.items()} for _ in range(STEPS)]
    ours = path(make_ours(), params, grad_sequence)
    theirs = run_torch(make_torch, params, grad_sequence, clip_norm=clip)
    for k in SHAPES:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=1e-12, atol=1e-13)
        assert not np.allclose(ours[k], params[k])  # the parameters did move


def test_step_decay_matches_torch_step_lr():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.3)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    ours = schedules.step_decay(0.3, 0.5, steps_per_epoch=4)
    for step in range(20):
        assert math.isclose(ours(step), scheduler.get_last_lr()[0], rel_tol=1e-12)
        opt.step()
        scheduler.step()


def test_cosine_matches_torch_cosine_annealing():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=30, eta_min=0.01)
    ours = schedules.cosine(0.2, total_steps=30, final_lr=0.01)
    for step in range(31):
        assert math.isclose(ours(step), scheduler.get_last_lr()[0], rel_tol=1e-9)
        opt.step()
        scheduler.step()


def test_reduce_on_plateau_matches_torch():
    rng = np.random.default_rng(3)
    metrics = list(1.0 - np.cumsum(rng.uniform(-0.02, 0.03, size=40)))
    metrics[10:20] = [metrics[9]] * 10  # a flat stretch
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt, mode="min", factor=0.5, patience=2, threshold=0.005, threshold_mode="abs", min_lr=0.01
    )
    plateau = PlateauDetector(factor=0.5, patience=2, min_delta=0.005, mode="min", min_scale=0.1)
    plateau_state = plateau.init()
    opt_state = SGD(0.1).init({"w": np.zeros(1)})
    for metric in metrics:
        scheduler.step(metric)
        factor, plateau_state = plateau.step(metric, plateau_state)
        if factor != 1.0:
            scale_learning_rate(opt_state, factor)
        assert math.isclose(
            current_learning_rate(0.1, opt_state), opt.param_groups[0]["lr"], rel_tol=1e-12
        )
    assert plateau_state["scale"] < 1.0  # the flat stretch did trigger reductions
