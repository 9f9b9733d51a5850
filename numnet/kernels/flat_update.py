"""Fused in-place optimizer update for a model whose parameters live in one flat array.

The reference is :mod:`numnet.optim`: pure transformations that loop over the parameter arrays and
return new arrays every step. That is the clear version, and the one to check. This kernel
computes the same numbers for a model on its fast kernels (``kernels="fast"``, the default), whose
parameters are views of one flat array and whose ``loss`` writes the gradients into views of
another (:mod:`numnet.kernels.flat`):

* each stage of the optimizer is one NumPy call per operation over ALL parameters, instead of one
  per array (a network has many small arrays, biases and batch-norm scales, whose per-call cost
  would dominate);
* parameters and state are updated in place, into buffers allocated once and reused every step,
  so a step allocates nothing;
* the flat state buffers and the kernel's two scratch arrays are allocated in huge pages
  (:mod:`numnet.kernels.huge_pages`), since a step sweeps through all of them.

The kernel knows what to compute from the transformation's ``spec`` (:class:`numnet.optim.Stage`
per part): :func:`flat_update` builds a :class:`FlatUpdate` from it, or returns None when some
stage has no fused version (a hand-written transformation, a weight-decay mask); the caller then
uses the pure path. Every operation is written in the order the reference evaluates it, so both
paths give the same numbers (up to the summation order of the clipping norm), and the state keeps
the reference's keys and values: a state is interchangeable between the two paths, and a
checkpoint written by one resumes on the other.

Contract of :meth:`FlatUpdate.step`: the gradients are only read; the parameters and the state
dict (its arrays and its ``count`` entries) are updated in place. State arrays that are not the
kernel's own flat views (a fresh ``tx.init`` state, a restored checkpoint, a state the pure path
returned) are first copied into new flat buffers, which replace them in the dict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, MutableMapping
from typing import Any

import numpy as np

from numnet.kernels import huge_pages

# Stage kind -> names of its per-parameter state buffers (the reference's key prefixes).
_BUFFERS = {
    "identity": (),
    "clip_by_global_norm": (),
    "add_decayed_weights": (),
    "scale_by_momentum": ("momentum",),
    "scale_by_rms": ("v",),
    "scale_by_adam": ("m", "v"),
    "scale_by_learning_rate": (),
    "scale_by_schedule": (),
}
# Stage kind -> its scalar state entries.
_SCALARS = {
    "scale_by_adam": ("count",),
    "scale_by_learning_rate": ("count", "lr_scale"),
    "scale_by_schedule": ("count", "lr_scale"),
}
# Stages that need the second scratch array besides the output one.
_NEEDS_TMP = {"add_decayed_weights", "scale_by_rms", "scale_by_adam"}


def _fusable(stage: Any) -> bool:
    if stage.kind not in _BUFFERS:
        return False
    if stage.kind == "add_decayed_weights" and stage.hyper.get("mask") is not None:
        return False  # a per-name mask has no one-call form
    return True


def _flat_of(mapping: Any, layout_attribute: str) -> tuple[Any, Any]:
    """``(flat array, layout)`` behind a flat mapping, or ``(None, None)``."""
    method = getattr(mapping, "flat_buffer", None)
    flat = method() if method is not None else None
    if not isinstance(flat, np.ndarray):
        return None, None
    return flat, getattr(mapping, layout_attribute, None)


def _same_layout(a: Any, b: Any) -> bool:
    if a is b:
        return True
    return (
        a is not None
        and b is not None
        and a.names == b.names
        and a.shapes == b.shapes
        and a.dtype == b.dtype
    )


def _entry(state: Mapping[str, Any], key: str) -> Any:
    try:
        return state[key]
    except KeyError:
        raise ValueError(
            f"optimizer state has no entry {key!r}; initialise the optimizer with the same "
            "parameters (or restore the matching checkpoint)"
        ) from None


class FlatUpdate:
    """The fused in-place update of one transformation (see the module notes).

    Parameters
    ----------
    spec : tuple of numnet.optim.Stage
        The transformation's ``spec``; every stage must have a fused version.

    Notes
    -----
    The scratch arrays are allocated for the first flat layout :meth:`step` sees, and again when
    the layout changes. State buffers are allocated whenever a state arrives whose arrays are not
    the kernel's current views (a fresh ``init``, a checkpoint, the pure path's output): its values
    are copied into new flat buffers, so adopting one state never changes another.
    """

    def __init__(self, spec: tuple[Any, ...]) -> None:
        self.spec = tuple(spec)
        self._layout: Any = None
        # "prefix + buffer name" (e.g. "1/m") -> its state keys ("1/m/W1", ...) in layout order
        self._groups: dict[str, tuple[str, ...]] = {}
        self._flat: dict[str, np.ndarray] = {}  # "prefix + buffer name" -> flat buffer
        self._views: dict[str, np.ndarray] = {}  # state key -> view of a flat buffer
        self._work: np.ndarray | None = None
        self._tmp: np.ndarray | None = None
        self._scalar_keys = tuple(
            stage.prefix + key for stage in self.spec for key in _SCALARS.get(stage.kind, ())
        )

    def _bind(self, layout: Any) -> None:
        """Allocate the scratch arrays for ``layout`` and forget the old state buffers."""
        size, dtype = (layout.size,), layout.dtype
        self._groups = {
            stage.prefix + buffer: tuple(f"{stage.prefix}{buffer}/{name}" for name in layout.names)
            for stage in self.spec
            for buffer in _BUFFERS[stage.kind]
        }
        self._flat, self._views = {}, {}
        self._work = huge_pages.empty(size, dtype)
        needs_tmp = any(s.kind in _NEEDS_TMP or s.hyper.get("nesterov") for s in self.spec)
        self._tmp = huge_pages.empty(size, dtype) if needs_tmp else None
        self._layout = layout

    def _adopt(self, state: MutableMapping[str, Any]) -> None:
        """Make every buffer entry of ``state`` a view of one of this kernel's flat buffers."""
        layout = self._layout
        for group, keys in self._groups.items():
            entries = [_entry(state, key) for key in keys]
            if all(entry is self._views.get(key) for key, entry in zip(keys, entries, strict=True)):
                continue
            values = [np.asarray(entry) for entry in entries]
            for key, value, shape in zip(keys, values, layout.shapes, strict=True):
                if value.shape != shape:
                    raise ValueError(
                        f"optimizer state {key!r} has shape {value.shape}, the parameter has "
                        f"{shape}; restore the state of this model"
                    )
            flat = huge_pages.empty((layout.size,), layout.dtype)
            views = layout.views(flat)
            for key, name, value in zip(keys, layout.names, values, strict=True):
                np.copyto(views[name], value)
                state[key] = self._views[key] = views[name]
            self._flat[group] = flat

    def step(
        self,
        params: MutableMapping[str, np.ndarray],
        grads: Mapping[str, np.ndarray],
        state: MutableMapping[str, Any],
    ) -> bool:
        """Apply one update in place; return False (touching nothing) when it cannot.

        Parameters
        ----------
        params : model parameter view
            Must expose ``flat_buffer()`` and ``flat_layout`` (a model on its fast kernels).
        grads : FlatArrays
            The gradients ``model.loss`` returned, with the same layout. Only read.
        state : dict
            The optimizer state (reference keys); its arrays and counters are updated in place.

        Returns
        -------
        bool
            True if the update was applied. False when the parameters or the gradients are not
            flat with one common layout; then nothing was changed and the caller should run the
            pure transformation.
        """
        flat_p, layout = _flat_of(params, "flat_layout")
        flat_g, grad_layout = _flat_of(grads, "layout")
        if (
            flat_p is None
            or flat_g is None
            or layout is None
            or not _same_layout(layout, grad_layout)
            or flat_p.shape != flat_g.shape
            or flat_p.dtype != flat_g.dtype
        ):
            return False
        for key in self._scalar_keys:  # a broken state fails before anything is written
            _entry(state, key)
        if not _same_layout(self._layout, layout):
            self._bind(layout)
        self._adopt(state)
        self._run(flat_p, flat_g, state)
        return True

    def _run(self, p: np.ndarray, g: np.ndarray, state: MutableMapping[str, Any]) -> None:
        work, tmp = self._work, self._tmp
        assert work is not None
        src = g  # the current updates; never written unless it is ``work``
        for stage in self.spec:
            kind, hyper, prefix = stage.kind, stage.hyper, stage.prefix
            if kind == "clip_by_global_norm":
                coefficient = hyper["max_norm"] / (math.sqrt(float(np.dot(src, src))) + 1e-6)
                if coefficient < 1.0 or math.isnan(coefficient):
                    np.multiply(src, coefficient, out=work)
                    src = work
            elif kind == "add_decayed_weights":
                decay = hyper["weight_decay"]
                if decay != 0.0:
                    np.multiply(p, decay, out=tmp)
                    np.add(src, tmp, out=work)
                    src = work
            elif kind == "scale_by_momentum":
                mu = hyper["momentum"]
                buf = self._flat[prefix + "momentum"]
                buf *= mu
                buf += src
                if hyper["nesterov"]:
                    np.multiply(buf, mu, out=tmp)
                    np.add(src, tmp, out=work)
                    src = work
                else:
                    src = buf  # read-only from here on
            elif kind == "scale_by_rms":
                rho = hyper["decay_rate"]
                v = self._flat[prefix + "v"]
                np.multiply(src, src, out=tmp)
                tmp *= 1.0 - rho
                v *= rho
                v += tmp
                np.sqrt(v, out=tmp)
                tmp += hyper["epsilon"]
                np.divide(src, tmp, out=work)
                src = work
            elif kind == "scale_by_adam":
                b1, b2 = hyper["beta1"], hyper["beta2"]
                t = int(state[prefix + "count"]) + 1
                m, v = self._flat[prefix + "m"], self._flat[prefix + "v"]
                np.multiply(src, 1.0 - b1, out=tmp)
                m *= b1
                m += tmp
                np.multiply(src, src, out=tmp)
                tmp *= 1.0 - b2
                v *= b2
                v += tmp
                np.sqrt(v, out=tmp)
                tmp /= math.sqrt(1.0 - b2**t)
                tmp += hyper["epsilon"]
                np.divide(m, tmp, out=work)
                work /= 1.0 - b1**t
                src = work
                state[prefix + "count"] = t
            elif kind in ("scale_by_learning_rate", "scale_by_schedule"):
                count = int(state[prefix + "count"])
                scale = state[prefix + "lr_scale"]
                sign = -1.0 if kind == "scale_by_learning_rate" else 1.0
                multiplier = sign * float(hyper["schedule"](count)) * float(scale)
                np.multiply(src, multiplier, out=work)
                src = work
                state[prefix + "count"] = count + 1
        np.add(p, src, out=p)


def flat_update(transformation: Any) -> FlatUpdate | None:
    """The fused in-place update of ``transformation``, or None if it has no fused version.

    Parameters
    ----------
    transformation : numnet.optim.GradientTransformation
        Any optimizer of :mod:`numnet.optim`; its ``spec`` says what it computes.

    Returns
    -------
    FlatUpdate or None
        None when the transformation carries no ``spec`` (written by hand) or some stage has no
        fused version; use the transformation's own ``update`` then.

    Examples
    --------
    The Solver's step, in short::

        fused = flat_update(opt)                      # once
        loss, grads = model.loss(X, y)
        if fused is None or not fused.step(model.params, grads, state):
            updates, state = opt.update(grads, state, model.params)
            apply_updates(model.params, updates)
    """
    spec = getattr(transformation, "spec", None)
    if spec is None or not all(_fusable(stage) for stage in spec):
        return None
    return FlatUpdate(spec)
