"""The HTTP inference server: `stance serve --model DIR`, built on FastAPI."""
