"""The container deployment: the compose file validates and builds the Dockerfile; the image is non-root.

No container engine runs on these machines, so nothing is built here: the checks read the files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is installed by `make`")
def test_docker_compose_config_is_valid():
    env = {**os.environ, "DJANGO_SECRET_KEY": "check-only", "CARTO_BLUR_SECRET": "check-only"}
    result = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_the_dockerfile_is_multi_stage_non_root_with_a_healthcheck_and_static_files_built():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert len(re.findall(r"^FROM ", text, flags=re.M)) >= 3
    assert re.search(r"^USER (?!root)\w+", text, flags=re.M)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, flags=re.M)
    assert "collectstatic" in text
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert compose.count("build: .") >= 1 and "python:3.11-slim" not in compose


def test_compose_runs_the_job_worker_with_the_web_service_settings():
    import yaml

    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))["services"]
    worker = services["worker"]
    assert worker["command"][-2:] == ["procrastinate", "worker"]
    # Same image, settings and database as web: the queue is a table of that database.
    assert worker["image"] == services["web"]["image"]
    assert worker["environment"] == services["web"]["environment"]
    assert worker["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
