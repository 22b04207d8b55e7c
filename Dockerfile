# The stance server on CPU.
#
# The model is MOUNTED, not trained into the image: `stance train` on the host replaces models/default by
# renaming, and `POST /admin/reload` switches the running container to it, which a model baked into the
# image could never do; the image also stays quick to build. Mount the parent folder, models/, not
# models/default itself: a bind mount of the folder would keep showing the old one after the rename.
#
#   make train                  # or: stance train --output models/default
#   docker build -t ceasefire-stance .
#   docker run -p 8000:8000 -v "$PWD/models:/app/models:ro" -e STANCE_ADMIN_TOKEN=change-me ceasefire-stance
#
# With --cpus N, also pass -e STANCE_INFERENCE_WORKERS=N: the container may see all of the host's cores.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# CPU-only torch from PyTorch's own index first, so that installing the project finds it satisfied
# instead of pulling the default wheel and its gigabytes of CUDA libraries.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md cli.py ./
COPY data ./data
COPY model ./model
COPY training ./training
COPY serve ./serve
RUN pip install . && useradd --create-home --uid 10001 stance

USER stance
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4).status != 200)"]
CMD ["stance", "serve", "--host", "0.0.0.0"]
