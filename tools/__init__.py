"""The course's tools, run from the course folder as modules: ``python -m tools.doctor``,
``python -m tools.run_notebooks 03``, ... (``python3 course.py`` runs the common ones for you)."""
