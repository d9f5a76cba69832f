"""Small numba kernels: array in, array out, no Python objects in the inner loops."""
