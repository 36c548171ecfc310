"""Probes for the exercise checks: one module a lesson (``lNN.py``), read by tests/lesson_checks.py.

A module defines ``PROBES``, a list of ``right(...)`` (the worked solution: the check must say
"Correct") and ``wrong(...)`` (a plausible wrong answer: it must say "Not yet"), at least one
right and two wrong for every check, and optionally ``SETUP``, code run once after the lesson's
cells and its solutions. ``verdict`` is an expression run in the lesson's kernel, e.g.
``ex.check_1(answer_solution)``; a wrong probe's ``setup`` builds its answer first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Probe:
    """One answer handed to a check: ``setup`` builds it in the kernel, ``verdict`` calls the check."""

    name: str
    verdict: str
    setup: str = ""
    right: bool = False  # True for the worked solution: the check must say "Correct"


def right(name: str, verdict: str) -> Probe:
    return Probe(name, verdict, right=True)


def wrong(name: str, verdict: str, setup: str = "") -> Probe:
    return Probe(name, verdict, setup)


__all__ = ["Probe", "right", "wrong"]
