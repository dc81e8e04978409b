"""digitpad's web service: a FastAPI app that turns drawings into MNIST vectors for model/'s networks."""

import os

# One BLAS thread per process, set before NumPy is first imported (an explicit setting wins). The
# service multiplies one drawing at a time, a vector by a matrix, which a second BLAS thread cannot
# speed up; OpenBLAS's extra threads only spin and compete with the request threads and the other
# workers for the cores: 4 to 15 times slower under load (docs/performance.md). An empty variable
# sets nothing (OpenBLAS would take every core), so it is filled in too.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    if not os.environ.get(_variable):
        os.environ[_variable] = "1"
