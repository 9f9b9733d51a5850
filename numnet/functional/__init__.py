"""The reference: pure layer functions ``name_forward(x, ...) -> (out, cache)``,
``name_backward(dout, cache)``, in plain NCHW NumPy, each with its derivation in its Notes.

One module per concept (``affine``, ``activations``, ``losses``, ``dropout``, ``normalization``,
``conv``, ``pooling``); ``conv`` and ``pooling`` also hold the loop versions (``*_naive``).
:mod:`numnet.layers` re-exports them all under their CS231n names. The fast kernels live in
:mod:`numnet.kernels` and are checked against these functions; nothing here imports them.

Inputs must be float32 or float64 arrays: integer and uint8 arrays are refused with a message
that says how to convert them (``x.astype(np.float64)``), never converted silently; every backward
checks that ``dout`` has the shape its forward produced (:mod:`numnet.functional._checks`).
"""
