# One image for every yuqing process; compose.yaml picks the command (crawl, worker, scheduler,
# dashboard, the one-shot models build and `yuqing users add`). See docs/deploy.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    YUQING_HOME=/data

# CJK fonts: the briefing's charts (matplotlib) otherwise draw every Chinese label as empty boxes.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends fonts-noto-cjk \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY yuqing ./yuqing
COPY crawlers ./crawlers
COPY stream ./stream
COPY classifiers ./classifiers
COPY archive ./archive
COPY dashboard ./dashboard
COPY response_ledger ./response_ledger
COPY briefing ./briefing
# devtools/ (the demo site and the benchmarks, a distribution of its own) never enters the image:
# there `yuqing up --demo`, `yuqing demo-site` and `yuqing bench` say it is not installed.
# The service's dependencies only: the dependency groups (tests, lint, torch) never enter the image.
RUN pip install .

# Run unprivileged; /data is created here so a fresh named volume inherits its owner.
RUN useradd --create-home --uid 10001 yuqing \
    && mkdir -p /data \
    && chown yuqing:yuqing /data
USER yuqing
# matplotlib's font list is built once here, as the user that draws; the build fails if the briefing
# would find no CJK font in it.
RUN python -c "import sys; from briefing.charts import cjk_font; sys.exit(cjk_font() is None)"
WORKDIR /data

# The default models are not baked in: the one-shot `models` service builds them into the shared
# /data volume before any worker starts, and keeps models a department trained there later.
EXPOSE 8501
CMD ["yuqing", "--help"]
