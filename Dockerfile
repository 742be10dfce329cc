FROM python:3.11-slim
WORKDIR /srv/sparring
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SPARRING_HOST=0.0.0.0 SPARRING_PORT=8000 \
    SPARRING_PERSONAS_DIR=/srv/sparring/personas SPARRING_PROMPTS_DIR=/srv/sparring/prompts \
    SPARRING_DATABASE_URL=sqlite:////srv/sparring/transcripts/sparring.db
COPY pyproject.toml README.md ./
COPY app ./app
COPY personas ./personas
COPY prompts ./prompts
COPY transcripts ./transcripts
RUN pip install --no-cache-dir . && useradd --create-home sparring && chown -R sparring transcripts
USER sparring
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sparring", "serve"]
