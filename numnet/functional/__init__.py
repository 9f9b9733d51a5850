"""Pure layer functions: ``name_forward(x, ...) -> (out, cache)``, ``name_backward(dout, cache)``.

One module per concept (``affine``, ``activations``, ``losses``, ``dropout``, ``normalization``,
``conv``, ``pooling``). :mod:`numnet.layers` re-exports them all under their CS231n names.
"""
