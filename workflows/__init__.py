"""Mechanisms as data: one folder per task force (organisation.yaml, definitions/), calendar/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
