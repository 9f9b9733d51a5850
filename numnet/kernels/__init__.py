"""Fast kernels beside the reference: the same math as :mod:`numnet.functional`, arranged for speed.

:mod:`numnet.functional` is the math a reader checks against a derivation (plain NCHW NumPy).
Everything here computes the same numbers faster: channel-last im2col and Winograd convolutions,
max pooling over contiguous window blocks, batch norm over rows, reused workspace buffers in huge
pages, flat parameter and gradient arrays, fused in-place optimizer updates. Each kernel is
proven equal to its reference through the layer table (:mod:`numnet.layer_table`).
"""
