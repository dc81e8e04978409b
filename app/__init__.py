"""digitpad's web service: a FastAPI app that turns drawings into MNIST vectors for model/'s networks."""
