"""The codes by which the Python side names what a kernel draws: a family of p (``KIND_*``,
read by :func:`simsearch.kernels.draws.draw_p`) and a family of idea values (``VALUE_*``, read
by the labs kernels).

Plain integers in a module without numba, so that parsing or checking a distribution (a
sweep's own process validating its points, say) does not load numba.
"""

KIND_BETA = 0
KIND_KUMARASWAMY = 1
KIND_LOGITNORMAL = 2
KIND_LOGUNIFORM = 3
KIND_POINT = 4
KIND_EMPIRICAL = 5

VALUE_FIXED = 0
VALUE_LOGNORMAL = 1
VALUE_PARETO = 2
