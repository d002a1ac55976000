# One image for every yuqing process; compose.yaml picks the command (crawl, worker, dashboard).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YUQING_HOME=/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY yuqing ./yuqing
COPY crawlers ./crawlers
COPY stream ./stream
COPY classifiers ./classifiers
COPY archive ./archive
COPY dashboard ./dashboard
COPY response_ledger ./response_ledger
COPY bench ./bench
COPY briefing ./briefing
RUN pip install .
# The default models are trained at build time from what the project ships, so every container of
# this image classifies with the same model version.
ENV YUQING_MODELS_DIR=/opt/yuqing/models
RUN yuqing models build

# Run unprivileged; /data is created here so a fresh named volume inherits its owner.
RUN useradd --create-home --uid 10001 yuqing \
    && mkdir -p /data \
    && chown yuqing:yuqing /data
USER yuqing
WORKDIR /data

EXPOSE 8501
CMD ["yuqing", "--help"]
